use shared::endpoints::groups::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("groups", handle).await
}
