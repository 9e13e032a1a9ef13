use shared::realtime::connect::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::realtime::serve_route("realtime_connect", handle).await
}
