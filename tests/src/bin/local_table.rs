//! Creates the table of `template.yaml` in DynamoDB Local (the endpoint in
//! `AWS_ENDPOINT_URL_DYNAMODB`), named by `TABLE_NAME`; with `--seed-demo`
//! also the demo users and messages the sample events in `events/` use.

use messenger_tests::local::{prepare_table, stack_table};

#[tokio::main]
async fn main() {
    let table = stack_table();
    prepare_table(&table, std::env::args().any(|arg| arg == "--seed-demo")).await;
    println!("table {table} is ready");
}
