use shared::endpoints::realtime_ticket::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("realtime_ticket", handle).await
}
