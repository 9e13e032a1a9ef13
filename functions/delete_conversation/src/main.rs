use shared::endpoints::delete_conversation::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("delete_conversation", handle).await
}
