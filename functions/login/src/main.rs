use shared::endpoints::login::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("login", handle).await
}
