use shared::endpoints::blocked::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("blocked", handle).await
}
