use shared::realtime::notifier::{handle, Notifier};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::app::serve_events("realtime_notifier", Notifier::from_env(), handle).await
}
