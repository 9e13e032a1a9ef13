use shared::endpoints::unblock::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("unblock", handle).await
}
