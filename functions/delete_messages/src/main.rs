use shared::endpoints::delete_messages::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("delete_messages", handle).await
}
