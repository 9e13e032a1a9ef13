//! `make bench`, the in-process part: DynamoDB capacity of one call of each
//! endpoint (1 KB messages), capacity against mailbox size, and handler
//! latency under 16 concurrent callers beside the bare DynamoDB calls the
//! request needs, in the same run against the same DynamoDB Local, with the
//! same calls over HTTP through `cargo lambda watch` for reference; group
//! conversations' capacity and latency (`groups.rs`); and a hot mailbox's
//! and a hot group's send rate through the fault proxy's AWS conflict rules.
//! Prints Markdown tables.

mod costs;
mod groups;
mod push;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use futures::future::join_all;
use messenger_tools::fault_proxy::{Fault, FaultProxy};
use messenger_tools::handlers::{dispatch, handler_request as request, method_of};
use messenger_tools::stack::{app_at, stack_table};
use messenger_tools::table::{prepare_table, TableFor};
use serde_json::{json, Value};
use shared::model::{Identifier, Timestamp};
use shared::store::capacity::{measure, Consumed};
use shared::store::{MailboxRange, RateLimit};
use shared::App;

const CALLERS: usize = 16;
const ROUNDS: usize = 9;
const CALLS_PER_ROUND: usize = 8;

fn text_1kb(tag: &str) -> String {
    format!("{tag}:{}", "m".repeat(1024 - tag.len() - 1))
}

/// One call: status, body, capacity and time.
async fn call(app: &App, function: &str, token: &str, body: Option<Value>) -> (u16, Value, Consumed, Duration) {
    let started = Instant::now();
    let (response, consumed) = measure(dispatch(function, app, request(function, token, body))).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    assert!(status < 300, "{function}: {status} {body}");
    (status, body, consumed, elapsed)
}

async fn register(app: &App, login: &str) -> String {
    let (_, body, _, _) = call(app, "register", "", Some(json!({"login": login, "password": "bench-password"}))).await;
    body["token"].as_str().expect("token").to_owned()
}

/// Sends `count` 1 KB messages, 16 at a time; returns their timestamps.
async fn fill(app: &App, token: &str, recipient: &str, count: usize) -> Vec<String> {
    let mut stamps = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(CALLERS) {
        let sends = chunk.iter().map(|i| {
            call(app, "send_message", token, Some(json!({"recipient": recipient, "message": text_1kb(&i.to_string())})))
        });
        for (_, body, _, _) in join_all(sends).await {
            stamps.push(body["timestamp"].as_str().unwrap().to_owned());
        }
    }
    stamps
}

/// The functions served over HTTP by `cargo lambda watch` at
/// BENCH_HTTP_URL, against the same table: the reference figure beside the
/// in-process one (the emulator adds its own hops).
struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    fn from_env() -> Option<Self> {
        let base = std::env::var("BENCH_HTTP_URL").ok()?;
        Some(Self { client: reqwest::Client::new(), base: base.trim_end_matches('/').to_owned() })
    }

    async fn call(&self, function: &str, token: &str, body: Option<Value>) -> Duration {
        let method = reqwest::Method::from_bytes(method_of(function).as_bytes()).expect("method");
        let mut request = self.client.request(method, format!("{}/{function}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let started = Instant::now();
        let response = request.send().await.expect("HTTP call");
        let status = response.status();
        let body = response.bytes().await.expect("HTTP body");
        let elapsed = started.elapsed();
        assert!(status.is_success(), "{function} over HTTP: {status} {}", String::from_utf8_lossy(&body));
        elapsed
    }

    /// p50 and p99 of `function` over HTTP, as many calls as one side of
    /// [`side_by_side`] makes, call `i` with `tokens[i % tokens.len()]`,
    /// after a round that starts one emulator instance per caller.
    async fn latency(&self, function: &str, tokens: &[String], body: Option<Value>) -> (f64, f64) {
        let one = |i: usize| self.call(function, &tokens[i % tokens.len()], body.clone());
        join_all((0..CALLERS).map(one)).await;
        p50_p99(samples(&one, 0, ROUNDS * CALLS_PER_ROUND).await)
    }
}

fn id(login: &str) -> Identifier {
    Identifier::parse("login", login).expect("a valid login")
}

fn units(consumed: Consumed) -> String {
    format!("{:.1} R / {:.1} W", consumed.read, consumed.write)
}

/// What the emulator's figures for deletes leave out (checked with boto3
/// against DynamoDB Local 3.3.0).
const DELETES_ON_AWS: &str = "DynamoDB Local reports 2 write units for any transaction of deletes, whatever it holds (1, 10, 50 or 99 deletes of 1 KB items: 2.0 each). AWS charges a transactional delete 2 units per KB of the item, and its index entries besides: the delete rows cost more on AWS than shown, delete_conversation of 1000 messages of 1 KB at least 4,000 write units (about $0.005).";

/// Prints the capacity table; returns that of one send, one fetch of new
/// messages and one fetch that finds nothing new, for the cost estimates.
async fn capacity_per_endpoint(app: &App) -> (Consumed, Consumed, Consumed) {
    println!("\n### DynamoDB capacity of one call (1 KB messages)\n");
    println!("| endpoint | read / write capacity units |\n|---|---|");
    let bob = register(app, "cap-bob").await;
    let carl = register(app, "cap-carl").await;
    let (_, _, c, _) = call(app, "register", "", Some(json!({"login": "cap-new", "password": "bench-password"}))).await;
    println!("| register | {} |", units(c));
    let (_, body, c, _) = call(app, "login", "", Some(json!({"login": "cap-bob", "password": "bench-password"}))).await;
    println!("| login | {} |", units(c));
    let spare = body["token"].as_str().unwrap().to_owned();
    let one = |tag: &str| Some(json!({"recipient": "cap-carl", "message": text_1kb(tag)}));
    let (_, _, c, _) = call(app, "send_message", &bob, one("first")).await;
    println!("| send_message (a pair's first message: the recipient is read) | {} |", units(c));
    let (_, _, c, _) = call(app, "send_message", &bob, one("next")).await;
    println!("| send_message | {} |", units(c));
    let send = c;
    let stamps = fill(app, &bob, "cap-carl", 19).await;
    let (_, _, c, _) = call(app, "fetch_new_messages", &carl, Some(json!({"sender": "cap-bob", "limit": 10}))).await;
    println!("| fetch_new_messages (sender, 10 of 21 new) | {} |", units(c));
    let fetch = c;
    let (_, _, c, _) = call(app, "fetch_new_messages", &carl, Some(json!({"limit": 10}))).await;
    println!("| fetch_new_messages (any sender, 10 of 11 new) | {} |", units(c));
    let many_logins: Vec<String> = (0..10).map(|i| format!("cap-many-{i}")).collect();
    let many = join_all(many_logins.iter().map(|login| register(app, login))).await;
    let reader = register(app, "cap-reader").await;
    for _ in 0..50 {
        let body = json!({"recipient": "cap-reader", "message": text_1kb("many")});
        join_all(many.iter().map(|token| call(app, "send_message", token, Some(body.clone())))).await;
    }
    let (_, body, c, _) = call(app, "fetch_new_messages", &reader, Some(json!({"limit": 100}))).await;
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(100));
    println!("| fetch_new_messages (any sender, 100 of 10 senders × 50 new) | {} |", units(c));
    // A poll of a drained mailbox, as the latency table's and a polling
    // client's.
    let poller = register(app, "cap-poller").await;
    call(app, "send_message", &bob, Some(json!({"recipient": "cap-poller", "message": text_1kb("poll")}))).await;
    call(app, "fetch_new_messages", &poller, Some(json!({}))).await;
    let (_, body, c, _) = call(app, "fetch_new_messages", &poller, Some(json!({}))).await;
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(0));
    println!("| fetch_new_messages (nothing new) | {} |", units(c));
    let poll = c;
    let (_, _, c, _) = call(app, "fetch_messages", &carl, Some(json!({"limit": 10}))).await;
    println!("| fetch_messages (recent, 10) | {} |", units(c));
    let body = json!({"sender": "cap-bob", "recipient": "cap-carl", "timestamp": stamps[0]});
    let (_, _, c, _) = call(app, "delete_message", &carl, Some(body)).await;
    println!("| delete_message | {} |", units(c));
    let body = json!({"sender": "cap-bob", "recipient": "cap-carl", "timestamps": stamps[1..11]});
    let (_, _, c, _) = call(app, "delete_messages", &carl, Some(body)).await;
    println!("| delete_messages (10) | {} |", units(c));
    let (_, _, c, _) = call(app, "conversations", &carl, None).await;
    println!("| conversations | {} |", units(c));
    let mut unread = fill(app, &bob, "cap-carl", 10).await;
    unread.sort();
    let (_, body, c, _) = call(app, "mark_read", &carl, Some(json!({"sender": "cap-bob", "through": unread[4]}))).await;
    assert!(body["marked"].as_u64() >= Some(5), "{body}");
    println!("| mark_read (through the 5th of 10 new) | {} |", units(c));
    let (_, _, c, _) = call(app, "block", &carl, Some(json!({"login": "cap-many-0"}))).await;
    println!("| block | {} |", units(c));
    let (_, _, c, _) = call(app, "send_message", &bob, one("blocking")).await;
    println!("| send_message (to a recipient who blocks another sender) | {} |", units(c));
    let (_, _, c, _) = call(app, "blocked", &carl, None).await;
    println!("| blocked (1) | {} |", units(c));
    let (_, _, c, _) = call(app, "unblock", &carl, Some(json!({"login": "cap-many-0"}))).await;
    println!("| unblock | {} |", units(c));
    let dana = register(app, "cap-dana").await;
    fill(app, &bob, "cap-dana", 1000).await;
    let (_, body, c, _) = call(app, "delete_conversation", &dana, Some(json!({"with": "cap-bob"}))).await;
    assert_eq!(body, json!({"deleted": 1000, "more": false}));
    println!("| delete_conversation (1000 messages) | {} |", units(c));
    let (_, _, c, _) = call(app, "logout", &spare, None).await;
    println!("| logout | {} |", units(c));
    println!("\n{DELETES_ON_AWS}");
    (send, fetch, poll)
}

async fn capacity_by_mailbox_size(app: &App) {
    println!("\n### Capacity against mailbox size (1 KB messages; 10 new on top of the stored ones)\n");
    println!("| stored messages | fetch_new_messages (limit 100) | fetch_messages recent (limit 100) | fetch_messages `start: -10` | fetch_messages period page (limit 100) | fetch_messages `read: false` (recent, limit 100) |");
    println!("|---:|---|---|---|---|---|");
    let sender = register(app, "size-sender").await;
    for size in [10, 1000, 10_000] {
        let login = format!("size-{size}");
        let token = register(app, &login).await;
        fill(app, &sender, &login, size).await;
        // Everything stored so far is fetched once; 10 new arrive after.
        loop {
            let (_, body, _, _) = call(app, "fetch_new_messages", &token, Some(json!({"limit": 1000}))).await;
            if body["more"] == false {
                break;
            }
        }
        fill(app, &sender, &login, 10).await;
        let (_, body, unread, _) = call(app, "fetch_messages", &token, Some(json!({"read": false}))).await;
        assert_eq!(body["messages"].as_array().unwrap().len(), 10);
        let (_, body, new, _) = call(app, "fetch_new_messages", &token, Some(json!({"limit": 100}))).await;
        assert_eq!(body["messages"].as_array().unwrap().len(), 10);
        let (_, _, recent, _) = call(app, "fetch_messages", &token, Some(json!({"limit": 100}))).await;
        let (_, _, slice, _) = call(app, "fetch_messages", &token, Some(json!({"start": -10}))).await;
        let period = json!({"period_start": "2000-01-01T00:00:00Z", "limit": 100});
        let (_, _, page, _) = call(app, "fetch_messages", &token, Some(period)).await;
        let row = [new, recent, slice, page, unread].map(units).join(" | ");
        println!("| {size} | {row} |");
    }
}

/// What an attacker could once inflate: a `limit: 1` fetch's capacity
/// against the number of senders waiting (one message each), and a slice
/// that skips 1,000 positions.
async fn capacity_at_the_limits(app: &App) {
    println!("\n### Capacity that follows the request, not the mailbox (1 KB messages)\n");
    println!("| call | read / write capacity units |\n|---|---|");
    for senders in [1, 10, 100] {
        let reader_login = format!("limits-reader-{senders}");
        let reader = register(app, &reader_login).await;
        let logins: Vec<String> = (0..senders).map(|i| format!("limits-{senders}-sender-{i}")).collect();
        for chunk in logins.chunks(CALLERS) {
            let tokens = join_all(chunk.iter().map(|login| register(app, login))).await;
            let body = json!({"recipient": reader_login, "message": text_1kb("waiting")});
            join_all(tokens.iter().map(|token| call(app, "send_message", token, Some(body.clone())))).await;
        }
        let (_, body, c, _) = call(app, "fetch_new_messages", &reader, Some(json!({"limit": 1}))).await;
        assert_eq!(body["messages"].as_array().map(Vec::len), Some(1));
        println!("| fetch_new_messages `limit: 1`, {senders} senders waiting | {} |", units(c));
    }
    let sender = register(app, "limits-slice-sender").await;
    let owner = register(app, "limits-slice").await;
    fill(app, &sender, "limits-slice", 1010).await;
    let (_, body, c, _) = call(app, "fetch_messages", &owner, Some(json!({"start": 1000, "stop": 1010}))).await;
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(10));
    println!("| fetch_messages `start: 1000, stop: 1010` (skips 1,000 positions) | {} |", units(c));
}

/// Concurrent senders to one recipient in the hot-mailbox table.
const HOT_SENDERS: [usize; 4] = [1, 8, 32, 64];
/// Messages sent in each row of the hot-mailbox table, split between the senders.
const HOT_MESSAGES: usize = 256;
/// How long the proxy holds each transaction in flight: about a commit on AWS.
const HOT_TRANSACTION_TIME: Duration = Duration::from_millis(20);

/// A request a careful client sends: with an Idempotency-Key, so it can
/// retry a 503 without doubling anything.
async fn call_once(app: &App, function: &str, token: &str, body: Value, key: &str) -> (u16, Value) {
    let mut request = request(function, token, Some(body));
    request.headers_mut().insert("idempotency-key", key.parse().expect("header value"));
    let response = dispatch(function, app, request).await;
    let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
    (response.status().as_u16(), body)
}

/// Calls until the answer is not a 503, waiting the Retry-After second
/// between calls; returns the answer and the number of 503s.
async fn call_retrying(app: &App, function: &str, token: &str, body: Value, key: &str) -> (Value, u32) {
    let mut unavailable = 0;
    loop {
        match call_once(app, function, token, body.clone(), key).await {
            (503, _) => {
                unavailable += 1;
                tokio::time::sleep(Duration::from_secs(u64::from(shared::error::RETRY_AFTER_SECONDS))).await;
            }
            (status, body) if status < 300 => return (body, unavailable),
            (status, body) => panic!("{function}: {status} {body}"),
        }
    }
}

/// What one row of a hot-conversation table measured.
struct HotRow {
    sends_per_second: f64,
    send_unavailable: u32,
    fetch_unavailable: u32,
    conflicts: u32,
}

impl HotRow {
    fn print(&self, senders: usize) {
        let HotRow { sends_per_second, send_unavailable, fetch_unavailable, conflicts } = self;
        println!("| {senders} | {sends_per_second:.1} | {send_unavailable} | {fetch_unavailable} | {conflicts} |");
    }
}

/// The header of a hot-conversation table's rows.
fn hot_header() {
    println!("| concurrent senders | sends per second | 503s to sends | 503s to fetches | requests that met a write in flight (cancelled or refused) |");
    println!("|---:|---:|---:|---:|---:|");
}

/// `HOT_MESSAGES` messages split between `senders` (tokens), each sent
/// with `send_body(sender, n)`, while two fetchers of `reader` drain them
/// with `fetch_body`, through `proxy` applying AWS's conflict rules (it is
/// left passing everything through). Every message is checked to arrive
/// exactly once.
async fn hot_run(
    app: &App,
    proxy: &FaultProxy,
    senders: &[String],
    reader: &str,
    send_body: impl Fn(usize, usize) -> Value,
    fetch_body: Value,
) -> HotRow {
    proxy.set(Fault::ConflictRules(HOT_TRANSACTION_TIME));
    let conflicts_before = proxy.conflicts();
    let per_sender = HOT_MESSAGES / senders.len();
    let sending = std::sync::atomic::AtomicBool::new(true);
    let started = Instant::now();
    let send_all = async {
        let sends = senders.iter().enumerate().map(|(i, token)| {
            let send_body = &send_body;
            async move {
                let mut unavailable = 0;
                for m in 0..per_sender {
                    unavailable +=
                        call_retrying(app, "send_message", token, send_body(i, m), &format!("send-{i}-{m}")).await.1;
                }
                unavailable
            }
        });
        let unavailable: u32 = join_all(sends).await.into_iter().sum();
        let elapsed = started.elapsed();
        sending.store(false, std::sync::atomic::Ordering::SeqCst);
        (unavailable, elapsed)
    };
    let fetch_all = join_all((0..2).map(|fetcher| {
        let (sending, fetch_body) = (&sending, &fetch_body);
        async move {
            let (mut texts, mut unavailable) = (Vec::new(), 0);
            for round in 0.. {
                let still_sending = sending.load(std::sync::atomic::Ordering::SeqCst);
                let key = format!("fetch-{fetcher}-{round}");
                let (body, retries) = call_retrying(app, "fetch_new_messages", reader, fetch_body.clone(), &key).await;
                unavailable += retries;
                let batch = body["messages"].as_array().expect("messages").clone();
                if batch.is_empty() && !still_sending {
                    break;
                }
                texts.extend(batch.into_iter().map(|m| m["message"].as_str().expect("text").to_owned()));
            }
            (texts, unavailable)
        }
    }));
    let ((send_unavailable, elapsed), fetched) = futures::join!(send_all, fetch_all);
    let conflicts = proxy.conflicts() - conflicts_before;
    proxy.set(Fault::None);
    let fetch_unavailable: u32 = fetched.iter().map(|(_, unavailable)| unavailable).sum();
    let mut texts: Vec<String> = fetched.into_iter().flat_map(|(texts, _)| texts).collect();
    texts.sort();
    let fetched = texts.len();
    texts.dedup();
    let sent = per_sender * senders.len();
    assert_eq!((fetched, texts.len()), (sent, sent), "every message once");
    HotRow { sends_per_second: sent as f64 / elapsed.as_secs_f64(), send_unavailable, fetch_unavailable, conflicts }
}

/// Sends per second and 503s with many senders writing to one recipient
/// while two fetchers drain the mailbox, through the fault proxy applying
/// AWS's conflict rules.
async fn hot_mailbox(app: &App, proxy: &FaultProxy) {
    println!(
        "\n### Hot mailbox: {HOT_MESSAGES} messages to one recipient, two fetchers draining, through the fault proxy \
         with AWS's conflict rules ({} ms per transaction)\n",
        HOT_TRANSACTION_TIME.as_millis()
    );
    hot_header();
    for senders in HOT_SENDERS {
        let recipient = format!("hot-{senders}");
        let reader = register(app, &recipient).await;
        let logins: Vec<String> = (0..senders).map(|i| format!("hot-{senders}-sender-{i}")).collect();
        let mut tokens = Vec::new();
        for chunk in logins.chunks(CALLERS) {
            tokens.extend(join_all(chunk.iter().map(|login| register(app, login))).await);
        }
        let send_body = |i: usize, m: usize| json!({"recipient": recipient, "message": format!("{i}:{m}")});
        hot_run(app, proxy, &tokens, &reader, send_body, json!({"limit": 100})).await.print(senders);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// `CALLERS` concurrent callers each running `one` `calls` times in turn;
/// call `j` of caller `c` gets the index `(first + j) * CALLERS + c`, unique
/// across calls with distinct `first`s, and `index % CALLERS` is the caller
/// (so each caller may keep a sender of its own).
async fn samples<F, Fut>(one: &F, first: usize, calls: usize) -> Vec<Duration>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let callers = (0..CALLERS).map(|caller| async move {
        let mut times = Vec::with_capacity(calls);
        for call in first..first + calls {
            times.push(one(call * CALLERS + caller).await);
        }
        times
    });
    join_all(callers).await.into_iter().flatten().collect()
}

fn p50_p99(mut all: Vec<Duration>) -> (f64, f64) {
    all.sort();
    (percentile(&all, 0.5), percentile(&all, 0.99))
}

/// A handler timed beside the bare DynamoDB calls it needs.
struct SideBySide {
    handler: (f64, f64),
    bare: (f64, f64),
    /// The median over the rounds of handler p50 / bare p50, less one.
    overhead: f64,
}

/// Times `handler` and `bare` in `ROUNDS` rounds that alternate which goes
/// first, so both meet the same machine; the overhead is the median of the
/// rounds' ratios.
async fn side_by_side<H, HF, B, BF>(handler: H, bare: B) -> SideBySide
where
    H: Fn(usize) -> HF,
    HF: std::future::Future<Output = Duration>,
    B: Fn(usize) -> BF,
    BF: std::future::Future<Output = Duration>,
{
    let (mut handler_all, mut bare_all, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let offset = round * CALLS_PER_ROUND;
        let (handler_times, bare_times) = if round % 2 == 0 {
            let handler_times = samples(&handler, offset, CALLS_PER_ROUND).await;
            (handler_times, samples(&bare, offset, CALLS_PER_ROUND).await)
        } else {
            let bare_times = samples(&bare, offset, CALLS_PER_ROUND).await;
            (samples(&handler, offset, CALLS_PER_ROUND).await, bare_times)
        };
        ratios.push(p50_p99(handler_times.clone()).0 / p50_p99(bare_times.clone()).0);
        handler_all.extend(handler_times);
        bare_all.extend(bare_times);
    }
    ratios.sort_by(f64::total_cmp);
    SideBySide { handler: p50_p99(handler_all), bare: p50_p99(bare_all), overhead: ratios[ROUNDS / 2] - 1.0 }
}

/// Prints the latency table; returns the handler p50 (ms) of send_message
/// and of fetch_new_messages, for the cost estimate.
async fn latencies(app: &App, http: Option<&Http>) -> (f64, f64) {
    let over_http = |function: &'static str, tokens: Vec<String>, body: Option<Value>| async move {
        match http {
            Some(http) => Some(http.latency(function, &tokens, body).await),
            None => None,
        }
    };
    let client = app.store.client();
    let recipient = "lat-recipient";
    let recipient_token = register(app, recipient).await;
    let logins: Vec<String> = (0..CALLERS).map(|i| format!("lat-sender-{i}")).collect();
    let senders: Vec<String> = join_all(logins.iter().map(|login| register(app, login))).await;
    fill(app, &senders[0], recipient, 200).await;
    // The bare calls are the store's own requests (keys, projections,
    // conditions, consumed capacity, client request tokens), so the
    // difference is our code's work alone.
    let get_token = |token: String| {
        let lookup = app.store.token_lookup(&shared::auth::token_hash(&token));
        async move {
            lookup.return_consumed_capacity(ReturnConsumedCapacity::Total).send().await.expect("get");
        }
    };

    // send_message: token read, the rate counter, one transaction of two items.
    let send_handler = |i: usize| {
        let token = senders[i % CALLERS].clone();
        async move {
            call(app, "send_message", &token, Some(json!({"recipient": recipient, "message": text_1kb("lat")}))).await.3
        }
    };
    // Client request tokens live ten minutes: a run of its own may not
    // reuse an earlier run's against the same DynamoDB.
    let run = rand::random::<u32>();
    let send_bare = |i: usize| {
        let get = get_token(senders[i % CALLERS].clone());
        async move {
            let started = Instant::now();
            get.await;
            let sender = id(&format!("lat-sender-{}", i % CALLERS));
            // The same items in a mailbox of each caller's own, so the
            // mailbox the other rows read stays well-formed and no two
            // callers' timestamps can collide; each sends one message at a
            // time, so the conditions hold as they do for the handler.
            let mailbox = id(&format!("bare-{}-{recipient}", i % CALLERS));
            let per_minute = RateLimit::sends_per_minute(app.config.send_rate_per_minute);
            app.store.rate(per_minute, sender.as_str()).await.expect("rate counter");
            let items =
                app.store.send_items(&sender, &mailbox, &text_1kb("bare"), Timestamp::now(), true).expect("send items");
            client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(format!("bare-{run:08x}-{i:018}"))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .expect("transact");
            started.elapsed()
        }
    };
    let send = side_by_side(send_handler, send_bare).await;

    // fetch_messages, recent view of 10: token read, one query, then the
    // read sides of the senders on the page (for the read flags).
    let recent = side_by_side(
        |_| {
            let token = recipient_token.clone();
            async move { call(app, "fetch_messages", &token, Some(json!({"limit": 10}))).await.3 }
        },
        |_| {
            let token = get_token(recipient_token.clone());
            async move {
                let mailbox = id(recipient);
                let range = MailboxRange { recipient: &mailbox, group: None, sender: None, from: None, to: None };
                let query = range
                    .query(&app.store)
                    .scan_index_forward(false)
                    .projection_expression("sender, recipient, #ts, message")
                    .expression_attribute_names("#ts", "timestamp")
                    .limit(10);
                let started = Instant::now();
                token.await;
                let page = query.return_consumed_capacity(ReturnConsumedCapacity::Total).send().await.expect("query");
                let mut senders: Vec<Identifier> = page
                    .items()
                    .iter()
                    .filter_map(|item| item.get("sender")?.as_s().ok().map(|sender| id(sender)))
                    .collect();
                senders.sort();
                senders.dedup();
                app.store.read_horizons(&mailbox, &senders).await.expect("read sides");
                started.elapsed()
            }
        },
    )
    .await;

    // fetch_new_messages polling with nothing new: a token read and one
    // query of the pending index; conversations: a token read and a query
    // of each side of the pairs (no message read, no transaction).
    loop {
        let (_, body, _, _) = call(app, "fetch_new_messages", &recipient_token, Some(json!({"limit": 1000}))).await;
        if body["more"] == false {
            break;
        }
    }
    let reader = id(recipient);
    let poll = side_by_side(
        |_| {
            let token = recipient_token.clone();
            async move { call(app, "fetch_new_messages", &token, Some(json!({}))).await.3 }
        },
        |_| {
            let query = app.store.pending_senders(&reader).limit(101);
            token_then_queries(get_token(recipient_token.clone()), vec![query])
        },
    )
    .await;
    let conversations = side_by_side(
        |_| {
            let token = recipient_token.clone();
            async move { call(app, "conversations", &token, None).await.3 }
        },
        |_| {
            let sides = vec![app.store.pair_sides(&reader, true), app.store.pair_sides(&reader, false)];
            token_then_queries(get_token(recipient_token.clone()), sides)
        },
    )
    .await;

    // Over HTTP after every in-process figure, so starting emulator
    // instances cannot disturb those; sends last, so the poll finds nothing
    // new.
    let reader = vec![recipient_token.clone()];
    let recent_http = over_http("fetch_messages", reader.clone(), Some(json!({"limit": 10}))).await;
    let poll_http = over_http("fetch_new_messages", reader.clone(), Some(json!({}))).await;
    let conversations_http = over_http("conversations", reader, None).await;
    let send_body = json!({"recipient": recipient, "message": text_1kb("http")});
    let send_http = over_http("send_message", senders.clone(), Some(send_body)).await;

    println!(
        "\n### Latency in-process against DynamoDB Local: {CALLERS} concurrent callers, {ROUNDS} rounds of \
         {CALLS_PER_ROUND} calls each, handler and bare calls taking turns to go first\n"
    );
    println!(
        "| endpoint | handler p50 / p99 (ms) | bare DynamoDB calls p50 / p99 (ms) \
         | p50 overhead (median of {ROUNDS} rounds) | over HTTP via `cargo lambda watch` p50 / p99 (ms) |"
    );
    println!("|---|---|---|---:|---|");
    row("send_message", &send, send_http);
    row("fetch_messages (recent 10)", &recent, recent_http);
    row("fetch_new_messages (nothing new)", &poll, poll_http);
    row("conversations", &conversations, conversations_http);
    (send.handler.0, poll.handler.0)
}

/// The bare calls of a read: the token lookup, then its queries at once,
/// timed together.
async fn token_then_queries(
    token_lookup: impl std::future::Future<Output = ()>,
    queries: Vec<aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder>,
) -> Duration {
    let started = Instant::now();
    token_lookup.await;
    let sent = queries.into_iter().map(|query| query.return_consumed_capacity(ReturnConsumedCapacity::Total).send());
    for answer in join_all(sent).await {
        answer.expect("query");
    }
    started.elapsed()
}

fn row(endpoint: &str, measured: &SideBySide, over_http: Option<(f64, f64)>) {
    let SideBySide { handler, bare, overhead } = measured;
    let over_http = over_http.map_or_else(|| "n/a".to_owned(), |(p50, p99)| format!("{p50:.2} / {p99:.2}"));
    println!(
        "| {endpoint} | {:.2} / {:.2} | {:.2} / {:.2} | {:+.0}% | {over_http} |",
        handler.0,
        handler.1,
        bare.0,
        bare.1,
        overhead * 100.0
    );
}

/// Where `capacity` leaves the units of one send, one fetch and one empty
/// fetch, and `latency` the handlers' p50, for the cost estimates of
/// `latency` and `push`.
const CAPACITY_FILE: &str = "target/bench-logs/capacity.json";
const LATENCY_FILE: &str = "target/bench-logs/latency.json";

fn consumed_json(consumed: Consumed) -> Value {
    json!({"read": consumed.read, "write": consumed.write})
}

fn consumed_from(value: &Value) -> Consumed {
    Consumed { read: value["read"].as_f64().expect("read units"), write: value["write"].as_f64().expect("write units") }
}

fn read_json(file: &str, written_by: &str) -> Value {
    let text = std::fs::read(file).unwrap_or_else(|_| panic!("run `bench {written_by}` first: no {file}"));
    serde_json::from_slice(&text).unwrap_or_else(|error| panic!("{file}: {error}"))
}

/// `bench prepare` creates and seeds the table named by TABLE_NAME;
/// `bench capacity` prints the capacity tables (counts, not timings, so it
/// may run while something else loads the machine); `bench latency` prints
/// the latency table and the cost estimate; `bench groups` prints the
/// capacity and latency of group conversations (`groups.rs`); `bench push`
/// prints push's latency through the bridge and the cost of a connected
/// user-hour; `bench hot` prints a hot mailbox's and a hot group's send
/// rate through the fault proxy's AWS conflict rules.
#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let command = std::env::args().nth(1).unwrap_or_default();
    if command == "prepare" {
        return prepare_table(&stack_table(), true, TableFor::Stack).await;
    }
    // The table the local stack serves, so calls over HTTP see the same users.
    let mut app = app_at(None, &stack_table()).await;
    // Rate limits that count, as a deployment's do, but that the bench's
    // thousands of calls never reach.
    app.config.send_rate_per_minute = u32::MAX;
    app.config.registrations_per_hour = u32::MAX;
    match command.as_str() {
        "capacity" => {
            let (send, fetch, poll) = capacity_per_endpoint(&app).await;
            capacity_by_mailbox_size(&app).await;
            capacity_at_the_limits(&app).await;
            let units =
                json!({"send": consumed_json(send), "fetch": consumed_json(fetch), "poll": consumed_json(poll)});
            std::fs::write(CAPACITY_FILE, units.to_string()).expect("write the capacity file");
        }
        "latency" => {
            let units = read_json(CAPACITY_FILE, "capacity");
            let (send_ms, poll_ms) = latencies(&app, Http::from_env().as_ref()).await;
            let durations = json!({"send_ms": send_ms, "poll_ms": poll_ms});
            std::fs::write(LATENCY_FILE, durations.to_string()).expect("write the latency file");
            costs::per_million_calls(consumed_from(&units["send"]), consumed_from(&units["fetch"]), (send_ms, poll_ms));
        }
        "push" => {
            let units = read_json(CAPACITY_FILE, "capacity");
            let durations = read_json(LATENCY_FILE, "latency");
            let poll = costs::PollMeasured {
                fetch_ms: durations["poll_ms"].as_f64().expect("poll_ms"),
                fetch: consumed_from(&units["poll"]),
            };
            push::run(&app, &stack_table(), poll).await;
        }
        "hot" => {
            let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("AWS_ENDPOINT_URL_DYNAMODB");
            let proxy = FaultProxy::start(&endpoint).await;
            // No rate limits, as app_at leaves them: the counter would be
            // one more write per send through the proxy.
            let app = app_at(Some(&proxy.url), &stack_table()).await;
            hot_mailbox(&app, &proxy).await;
            groups::hot_group(&app, &proxy).await;
        }
        "groups" => groups::run(&app).await,
        _ => panic!("usage: bench prepare | capacity | latency | groups | push | hot"),
    }
}
