//! Creates the table of `template.yaml` in DynamoDB Local (the endpoint in
//! `AWS_ENDPOINT_URL_DYNAMODB`), named by `TABLE_NAME`; with `--seed-demo`
//! also the demo users and messages the sample events in `events/` use.
//! Prints one line saying what is ready, with the demo users' logins,
//! passwords and tokens, for `make dev` to show.

use messenger_tools::demo::DEMO_USERS;
use messenger_tools::stack::stack_table;
use messenger_tools::table::{prepare_table, TableFor};

#[tokio::main]
async fn main() {
    let table = stack_table();
    let seed = std::env::args().any(|arg| arg == "--seed-demo");
    prepare_table(&table, seed, TableFor::Stack).await;
    if seed {
        let users: Vec<String> = DEMO_USERS
            .iter()
            .map(|(login, password, token)| format!("{login} (password {password}, token {token})"))
            .collect();
        println!("table {table} is ready, with demo users {}", users.join(" and "));
    } else {
        println!("table {table} is ready");
    }
}
