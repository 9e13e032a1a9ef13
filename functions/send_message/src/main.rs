use shared::endpoints::send_message::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("send_message", handle).await
}
