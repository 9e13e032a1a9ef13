use shared::realtime::default_route::handle;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::realtime::serve_route("realtime_default", handle).await
}
