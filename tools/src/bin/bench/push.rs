//! `bench push`: the time from a send's 201 to its frame on the
//! recipient's socket, through the functions `cargo lambda watch` serves
//! (BENCH_HTTP_URL) and the dev WebSocket bridge (BENCH_WEBSOCKET_URL),
//! one message at a time; then the `$default` and notifier handlers
//! in-process, for the cost of an hour of push beside an hour of polling.

use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use futures::{SinkExt, StreamExt};
use messenger_tools::bridge::websocket_events::{message_event, new_connection_id, Peer};
use messenger_tools::handlers::dispatch_route;
use messenger_tools::stack::notifier_at;
use serde_json::{json, Value};
use shared::model::{Identifier, Message, Timestamp};
use shared::store::capacity::{measure, Consumed};
use shared::App;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::costs::{per_user_hour, PollMeasured, PushMeasured};
use super::{p50_p99, text_1kb, Http};

/// Messages timed, one at a time.
const PUSHED: usize = 200;
/// Messages sent first and not timed: the watch starts the notifier's
/// instance on its first invocation.
const WARM_UP: usize = 3;
const WARM_UP_WITHIN: Duration = Duration::from_secs(120);
/// A frame later than this after its 201 counts as missing.
const FRAME_WITHIN: Duration = Duration::from_secs(10);
/// In-process calls of the `$default` handler and of the notifier.
const PINGS: usize = 1000;
const NOTIFICATIONS: usize = 50;

/// A message frame as it reached the socket.
struct Arrival {
    timestamp: String,
    text: String,
    bytes: usize,
    at: Instant,
}

/// What the timed sends found.
struct Pushed {
    times: Vec<Duration>,
    missing: usize,
    /// Frames of a message that had already arrived (the stream delivers
    /// at least once).
    repeated: usize,
    frame_bytes: usize,
}

async fn post(http: &Http, function: &str, token: &str, body: Value) -> Value {
    let mut request = http.client.post(format!("{}/{function}", http.base)).json(&body);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("HTTP call");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status.as_u16(), 201, "{function} over HTTP: {body}");
    body
}

/// Reads the socket until it closes, passing each message frame on with
/// the moment it arrived.
async fn read_frames<S>(mut socket: S, arrivals: mpsc::UnboundedSender<Arrival>)
where
    S: futures::Stream<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    while let Some(Ok(message)) = socket.next().await {
        let at = Instant::now();
        let WsMessage::Text(text) = message else { continue };
        let frame: Value = serde_json::from_str(&text).expect("a JSON frame");
        if frame["type"] != "message" {
            continue;
        }
        let field = |name: &str| frame["message"][name].as_str().expect("a message field").to_owned();
        let arrival = Arrival { timestamp: field("timestamp"), text: field("message"), bytes: text.len(), at };
        if arrivals.send(arrival).is_err() {
            return;
        }
    }
}

/// Waits for the frame that `wanted` picks; None when it did not come
/// within `within` of `sent`. Other frames count as `repeated`.
async fn frame_of(
    arrivals: &mut mpsc::UnboundedReceiver<Arrival>,
    wanted: impl Fn(&Arrival) -> bool,
    sent: Instant,
    within: Duration,
    repeated: &mut usize,
) -> Option<Arrival> {
    loop {
        match tokio::time::timeout_at((sent + within).into(), arrivals.recv()).await {
            Ok(Some(arrival)) if wanted(&arrival) => return Some(arrival),
            Ok(Some(_)) => *repeated += 1,
            Ok(None) => panic!("the socket closed"),
            Err(_) => return None,
        }
    }
}

/// Sends `count` 1 KB messages from `sender` to `recipient`, each once the
/// previous one's frame arrived or was given up on.
async fn push_each(
    http: &Http,
    sender: &str,
    recipient: &str,
    count: usize,
    within: Duration,
    arrivals: &mut mpsc::UnboundedReceiver<Arrival>,
) -> Pushed {
    let mut pushed = Pushed { times: Vec::with_capacity(count), missing: 0, repeated: 0, frame_bytes: 0 };
    for i in 0..count {
        let text = text_1kb(&format!("push-{i}"));
        let body = post(http, "send_message", sender, json!({"recipient": recipient, "message": text})).await;
        let sent = Instant::now();
        let timestamp = body["timestamp"].as_str().expect("the message's timestamp");
        let wanted = |arrival: &Arrival| arrival.timestamp == timestamp;
        match frame_of(arrivals, wanted, sent, within, &mut pushed.repeated).await {
            Some(arrival) => {
                assert_eq!(arrival.text, text, "the frame carries the message");
                // A frame read before the 201 was (never seen here) counts as 0.
                pushed.times.push(arrival.at.saturating_duration_since(sent));
                pushed.frame_bytes = pushed.frame_bytes.max(arrival.bytes);
            }
            None => pushed.missing += 1,
        }
    }
    pushed
}

/// The `$default` handler answering pings, in-process: p50 (ms).
async fn ping_ms(app: &App) -> f64 {
    let peer = Peer {
        connection_id: new_connection_id(),
        connected_at: chrono::Utc::now(),
        source_ip: "127.0.0.1".to_owned(),
        user_agent: None,
        domain_name: "127.0.0.1".to_owned(),
    };
    let mut times = Vec::with_capacity(PINGS);
    for _ in 0..PINGS {
        let event = message_event(&peer, r#"{"type":"ping"}"#.to_owned());
        let started = Instant::now();
        let answer = dispatch_route("realtime_default", app, event).await;
        times.push(started.elapsed());
        assert_eq!(answer.status_code, 200);
    }
    p50_p99(times).0
}

/// A stream batch of one new message item, as the event source mapping
/// delivers it.
fn stream_event(message: &Message, sequence: usize) -> Event {
    let mut record = EventRecord::default();
    record.event_name = "INSERT".to_owned();
    record.event_source = Some("aws:dynamodb".to_owned());
    let keys = json!({"pk": format!("USER#{}", message.recipient), "sk": format!("MSG#{}", message.timestamp)});
    record.change.keys = serde_dynamo::to_item(keys).expect("a message item's keys");
    record.change.new_image = serde_dynamo::to_item(message).expect("a message item");
    record.change.sequence_number = Some(format!("{sequence:021}"));
    let mut event = Event::default();
    event.records = vec![record];
    event
}

/// The notifier's handler in-process, each call one record for
/// `recipient`, who holds one socket (its frames arrive on `arrivals`):
/// p50 and p99 (ms), and the capacity of one call.
async fn notifier_runs(
    management: &str,
    table: &str,
    recipient: &str,
    arrivals: &mut mpsc::UnboundedReceiver<Arrival>,
) -> ((f64, f64), Consumed) {
    let notifier = notifier_at(management, table).await;
    let (mut times, mut consumed) = (Vec::with_capacity(NOTIFICATIONS), Consumed::default());
    for i in 0..NOTIFICATIONS {
        let message = Message {
            sender: Identifier::parse("sender", "push-notifier").expect("a login"),
            recipient: Identifier::parse("recipient", recipient).expect("a login"),
            timestamp: Timestamp::now(),
            message: text_1kb(&format!("notifier-{i}")),
            group: None,
        };
        let started = Instant::now();
        let (response, units) = measure(shared::realtime::notifier::handle(&notifier, stream_event(&message, i))).await;
        times.push(started.elapsed());
        let response = response.expect("the notifier answers");
        assert!(response.batch_item_failures.is_empty(), "the notifier failed to push");
        let wanted = |arrival: &Arrival| arrival.text == message.message;
        let arrived = frame_of(arrivals, wanted, Instant::now(), FRAME_WITHIN, &mut 0).await;
        assert!(arrived.is_some(), "the notifier's frame reached the socket");
        consumed = units;
    }
    (p50_p99(times), consumed)
}

fn websocket_url() -> String {
    let url = std::env::var("BENCH_WEBSOCKET_URL").expect("BENCH_WEBSOCKET_URL: the bridge's WebSocket API");
    url.trim_end_matches('/').to_owned()
}

/// `poll`: an empty fetch_new_messages, from `bench capacity` and `bench
/// latency`. Fails (after printing) when a frame did not arrive.
pub async fn run(app: &App, table: &str, poll: PollMeasured) {
    let http = Http::from_env().expect("BENCH_HTTP_URL: the functions served by `cargo lambda watch`");
    let websocket = websocket_url();
    let run = rand::random::<u32>();
    let (recipient, sender) = (format!("push-{run:08x}"), format!("push-sender-{run:08x}"));
    let mut tokens = Vec::new();
    for login in [&recipient, &sender] {
        let body = post(&http, "register", "", json!({"login": login, "password": "bench-password"})).await;
        tokens.push(body["token"].as_str().expect("a token").to_owned());
    }
    let ticket = post(&http, "realtime_ticket", &tokens[0], json!({})).await;
    let ticket = ticket["ticket"].as_str().expect("a ticket");
    let (socket, _) =
        tokio_tungstenite::connect_async(format!("{websocket}/?ticket={ticket}")).await.expect("the socket opens");
    let (mut outgoing, incoming) = socket.split();
    let (sink, mut arrivals) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_frames(incoming, sink));

    let warm = push_each(&http, &tokens[1], &recipient, WARM_UP, WARM_UP_WITHIN, &mut arrivals).await;
    assert_eq!(warm.missing, 0, "no frame within {WARM_UP_WITHIN:?}: is the bridge reading the stream?");
    let pushed = push_each(&http, &tokens[1], &recipient, PUSHED, FRAME_WITHIN, &mut arrivals).await;
    let management = websocket.replacen("ws://", "http://", 1);
    let (notifier, notifier_units) = notifier_runs(&management, table, &recipient, &mut arrivals).await;
    let ping = ping_ms(app).await;
    outgoing.close().await.expect("a clean close");
    reader.abort();

    let arrived = pushed.times.len();
    let (p50, p99) = p50_p99(pushed.times);
    println!(
        "\n### Push latency: a send's 201 to the frame on the recipient's socket ({PUSHED} 1 KB messages, one at a time)\n"
    );
    println!(
        "Locally the path is `cargo lambda watch` and the dev bridge, which reads DynamoDB Local's stream every \
         100 ms when idle and invokes the notifier through the watch: that poll dominates the figure. On AWS it \
         is the table's stream, Lambda's event source mapping and the Management API, whose delay this bench \
         does not measure.\n"
    );
    println!("| path | p50 (ms) | p99 (ms) | frames arrived | repeated frames |\n|---|---:|---:|---:|---:|");
    println!("| 201 → frame, through the bridge | {p50:.1} | {p99:.1} | {arrived} of {PUSHED} | {} |", pushed.repeated);
    println!(
        "| of which the notifier's handler, in-process (1 record, 1 socket; {NOTIFICATIONS} calls) | {:.1} | {:.1} | \
         {NOTIFICATIONS} of {NOTIFICATIONS} | n/a |",
        notifier.0, notifier.1
    );
    let push = PushMeasured {
        ping_ms: ping,
        notifier_ms: notifier.0,
        notifier: notifier_units,
        frame_bytes: pushed.frame_bytes,
    };
    per_user_hour(&push, &poll);
    if pushed.missing > 0 {
        eprintln!("bench push: {} of {PUSHED} frames did not arrive within {FRAME_WITHIN:?}", pushed.missing);
        std::process::exit(1);
    }
}
