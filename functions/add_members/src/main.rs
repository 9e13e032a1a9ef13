use shared::endpoints::add_members::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("add_members", handle).await
}
