use shared::endpoints::logout::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("logout", handle).await
}
