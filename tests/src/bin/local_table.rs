//! Creates the table of `template.yaml` in DynamoDB Local (the endpoint in
//! `AWS_ENDPOINT_URL_DYNAMODB`), named by `TABLE_NAME`; with `--seed-demo`
//! also the demo users and messages the sample events in `events/` use.

use messenger_tests::local::{create_table, dynamodb_client, seed_demo};
use shared::store::Store;

#[tokio::main]
async fn main() {
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME is set");
    let client = dynamodb_client().await;
    create_table(&client, &table).await;
    if std::env::args().any(|arg| arg == "--seed-demo") {
        seed_demo(&Store::new(client, &table)).await;
    }
    println!("table {table} is ready");
}
