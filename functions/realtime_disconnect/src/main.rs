use shared::realtime::disconnect::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::realtime::serve_route("realtime_disconnect", handle).await
}
