use shared::endpoints::fetch_new_messages::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("fetch_new_messages", handle).await
}
