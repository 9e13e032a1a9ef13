use shared::endpoints::conversations::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("conversations", handle).await
}
