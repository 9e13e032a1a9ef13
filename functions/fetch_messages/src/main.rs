use shared::endpoints::fetch_messages::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("fetch_messages", handle).await
}
