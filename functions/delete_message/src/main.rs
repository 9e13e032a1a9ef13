use shared::endpoints::delete_message::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("delete_message", handle).await
}
