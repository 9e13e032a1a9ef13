use shared::endpoints::register::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("register", handle).await
}
