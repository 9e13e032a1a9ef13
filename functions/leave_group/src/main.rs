use shared::endpoints::leave_group::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve("leave_group", handle).await
}
