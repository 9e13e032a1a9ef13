use shared::endpoints::remove_member::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("remove_member", handle).await
}
