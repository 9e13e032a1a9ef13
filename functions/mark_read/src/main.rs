use shared::endpoints::mark_read::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("mark_read", handle).await
}
