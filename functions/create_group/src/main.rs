use shared::endpoints::create_group::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("create_group", handle).await
}
