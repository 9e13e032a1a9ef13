use shared::endpoints::group_members::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("group_members", handle).await
}
