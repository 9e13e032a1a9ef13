//! The web client and the API reference: the files of `web/dist`, compiled
//! in by build.rs.

static ASSETS: &[shared::web::Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::web::serve(ASSETS).await
}
