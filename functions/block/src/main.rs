use shared::endpoints::block::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("block", handle).await
}
