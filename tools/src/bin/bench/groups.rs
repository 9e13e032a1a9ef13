//! `bench groups`: what a group conversation costs, in-process against
//! DynamoDB Local (1 KB messages): a send to a group of 2, 100 and 1000
//! members, and the notifier's work for it after the send returns (per
//! other member, a marker write and a connection query); a member's fetch
//! of a group's new messages in groups of those sizes; and a fetch of the
//! whole mailbox by a member of 1, 10 and 100 groups. And, for `bench hot`,
//! a hot group: concurrent senders to one group through the fault proxy's
//! AWS conflict rules.
//!
//! In-process nothing runs the stream's notifier, so after each send the
//! measured members' markers are noted as the notifier would note them
//! (`note_group_messages`); the notifier's own cost is measured apart, by
//! calling its handler with the messages' stream records.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use futures::future::join_all;
use futures::{stream, StreamExt};
use messenger_tools::fault_proxy::FaultProxy;
use messenger_tools::stack::{notifier_at, stack_table};
use serde_json::{json, Value};
use shared::model::{GroupId, Identifier, Timestamp, MAX_MEMBERS_PER_REQUEST};
use shared::store::capacity::{measure, Consumed};
use shared::App;

use super::{call, hot_header, hot_run, p50_p99, text_1kb, units, CALLERS, CALLS_PER_ROUND, ROUNDS};

/// The group sizes of the send and group-fetch tables.
const SIZES: [usize; 3] = [2, 100, 1000];
/// How many groups the member of the whole-mailbox fetch table is in.
const GROUP_COUNTS: [usize; 3] = [1, 10, 100];
/// New messages that each measured fetch returns.
const NEW: usize = 10;
/// Group messages the notifier's handler is timed on, per group size.
const NOTIFIER_RUNS: usize = 5;
/// The messages of one group in the notifier's larger batch.
const NOTIFIER_BATCH: usize = 10;
/// Concurrent requests while setting up users and groups.
const SETUP_CONCURRENCY: usize = 8;
/// Concurrent senders to one group in the hot-group table.
const HOT_GROUP_SENDERS: [usize; 2] = [1, 8];

/// Registers users without a password (no hash to wait for: registering
/// is not what is measured); their tokens, in the order of `logins`.
async fn register_all(app: &App, logins: &[String]) -> Vec<String> {
    let registering = logins.iter().map(|login| async move {
        let (_, body, _, _) = call(app, "register", "", Some(json!({"login": login}))).await;
        body["token"].as_str().expect("token").to_owned()
    });
    stream::iter(registering).buffered(SETUP_CONCURRENCY).collect().await
}

/// A group of `admin` (by token) and `members` (logins), built with
/// create_group and as many add_members as it takes; its id.
async fn group_of(app: &App, admin: &str, members: &[String]) -> String {
    let mut chunks = members.chunks(MAX_MEMBERS_PER_REQUEST);
    let first = chunks.next().unwrap_or_default();
    let (_, created, _, _) = call(app, "create_group", admin, Some(json!({"name": "bench", "members": first}))).await;
    let group = created["group"].as_str().expect("group").to_owned();
    for chunk in chunks {
        call(app, "add_members", admin, Some(json!({"group": group, "members": chunk}))).await;
    }
    group
}

fn id(login: &str) -> Identifier {
    Identifier::parse("login", login).expect("a valid login")
}

fn group_id(group: &str) -> GroupId {
    GroupId::parse("group", group).expect("a group id")
}

/// Sends `count` 1 KB messages to `group`, one at a time (a group's
/// senders take turns on its head); their timestamps.
async fn send_to(app: &App, token: &str, group: &str, count: usize) -> Vec<Timestamp> {
    let mut stamps = Vec::with_capacity(count);
    for i in 0..count {
        let body = json!({"group": group, "message": text_1kb(&format!("group-{i}"))});
        let (_, body, _, _) = call(app, "send_message", token, Some(body)).await;
        let stamp = body["timestamp"].as_str().expect("timestamp");
        stamps.push(Timestamp::parse("timestamp", stamp).expect("a timestamp"));
    }
    stamps
}

/// Notes `stamps` (oldest first) of `group` on each of `members`' markers,
/// as the notifier does for a batch of the stream.
async fn note(app: &App, members: &[String], group: &str, stamps: &[Timestamp]) {
    let group = group_id(group);
    let (Some(oldest), Some(newest)) = (stamps.first(), stamps.last()) else { return };
    join_all(members.iter().map(|member| {
        let (member, group) = (id(member), &group);
        async move {
            app.store.note_group_messages(&member, group, *oldest, *newest).await.expect("note group messages");
        }
    }))
    .await;
}

/// Times and capacities of measured calls.
#[derive(Default)]
struct Measured {
    times: Vec<Duration>,
    units: Vec<Consumed>,
}

impl Measured {
    fn add(&mut self, calls: Vec<(Duration, Consumed)>) {
        for (time, consumed) in calls {
            self.times.push(time);
            self.units.push(consumed);
        }
    }

    /// p50 / p99 (ms).
    fn latency(&self) -> String {
        let (p50, p99) = p50_p99(self.times.clone());
        format!("{p50:.2} / {p99:.2}")
    }

    /// The capacity every call consumed, or its range when calls differed.
    fn capacity(&self) -> String {
        let total = |c: &Consumed| c.read + c.write;
        let least = self.units.iter().min_by(|a, b| total(a).total_cmp(&total(b))).expect("a measured call");
        let most = self.units.iter().max_by(|a, b| total(a).total_cmp(&total(b))).expect("a measured call");
        if least == most {
            units(*least)
        } else {
            format!("{} to {}", units(*least), units(*most))
        }
    }
}

/// `CALLERS` concurrent callers, each making `calls` calls of `one(caller)`
/// in turn: every call's time and capacity.
async fn by_callers<F, Fut>(calls: usize, one: F) -> Vec<(Duration, Consumed)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = (Duration, Consumed)>,
{
    let one = &one;
    let callers = (0..CALLERS).map(|caller| async move {
        let mut measured = Vec::with_capacity(calls);
        for _ in 0..calls {
            measured.push(one(caller).await);
        }
        measured
    });
    join_all(callers).await.into_iter().flatten().collect()
}

/// A fetch_new_messages by `token` that must return `expected` messages:
/// its time and capacity.
async fn fetch(app: &App, token: &str, body: Value, expected: usize) -> (Duration, Consumed) {
    let (_, answer, consumed, elapsed) = call(app, "fetch_new_messages", token, Some(body.clone())).await;
    let got = answer["messages"].as_array().map(Vec::len);
    assert_eq!(got, Some(expected), "messages returned to fetch_new_messages {body}");
    (elapsed, consumed)
}

/// A stream batch of new group messages, as the event source mapping
/// delivers it, their records numbered from `first`.
fn group_stream_event(sender: &str, group: &str, stamps: &[Timestamp], first: usize) -> Event {
    let record = |(n, timestamp): (usize, &Timestamp)| {
        let image = json!({
            "pk": format!("GROUP#{group}"), "sk": format!("MSG#{timestamp}"),
            "sender": sender, "group": group, "timestamp": timestamp.to_string(),
            "message": text_1kb("notified"), "sender_ts": format!("{sender}#{timestamp}"),
        });
        let mut record = EventRecord::default();
        record.event_name = "INSERT".to_owned();
        record.event_source = Some("aws:dynamodb".to_owned());
        record.change.keys = serde_dynamo::to_item(json!({"pk": image["pk"], "sk": image["sk"]})).expect("keys");
        record.change.new_image = serde_dynamo::to_item(image).expect("a group message item");
        record.change.sequence_number = Some(format!("{:021}", first + n));
        record
    };
    let mut event = Event::default();
    event.records = stamps.iter().enumerate().map(record).collect();
    event
}

/// The figures of one group size.
#[derive(Default)]
struct SizeFigures {
    send: Measured,
    fetch: Measured,
    notifier: Measured,
    /// The notifier on a batch of `NOTIFIER_BATCH` of the group's messages.
    notifier_batch: Measured,
    member_list: Consumed,
}

/// The users of the group-size tables: `CALLERS` admins (the senders) and
/// as many readers, by (login, token). For each size, group `caller` holds
/// `admins[caller]`, `readers[caller]` and members shared by all.
struct Cast {
    admins: Vec<(String, String)>,
    readers: Vec<(String, String)>,
}

/// One round of a member's fetch of the group's new messages: every admin
/// sends NEW messages to their group, the reader's marker is noted, and the
/// readers fetch at once.
async fn group_fetch_round(app: &App, cast: &Cast, groups: &[String]) -> Vec<(Duration, Consumed)> {
    join_all((0..CALLERS).map(|caller| async move {
        let stamps = send_to(app, &cast.admins[caller].1, &groups[caller], NEW).await;
        note(app, std::slice::from_ref(&cast.readers[caller].0), &groups[caller], &stamps).await;
    }))
    .await;
    by_callers(1, |caller| fetch(app, &cast.readers[caller].1, json!({"group": groups[caller]}), NEW)).await
}

/// One round of sends, every admin to their own group, as the latency
/// table's; then the readers fetch them (not measured), so the next fetch
/// round finds only its own.
async fn group_send_round(app: &App, cast: &Cast, groups: &[String], round: usize) -> Vec<(Duration, Consumed)> {
    let sent = by_callers(CALLS_PER_ROUND, |caller| {
        let (token, group) = (&cast.admins[caller].1, &groups[caller]);
        async move {
            let body = json!({"group": group, "message": text_1kb(&format!("lat-{round}"))});
            let (_, _, consumed, elapsed) = call(app, "send_message", token, Some(body)).await;
            (elapsed, consumed)
        }
    })
    .await;
    let limit = json!(CALLS_PER_ROUND);
    by_callers(1, |caller| {
        fetch(app, &cast.readers[caller].1, json!({"group": groups[caller], "limit": limit}), CALLS_PER_ROUND)
    })
    .await;
    sent
}

/// The notifier's handler on batches of `batch` messages of `group`,
/// nobody connected (so nothing is posted): the member list, then per
/// other member a marker write and a connection query.
async fn notifier_runs(app: &App, cast: &Cast, group: &str, batch: usize) -> Measured {
    let notifier = notifier_at("http://127.0.0.1:9", &stack_table()).await;
    let mut measured = Measured::default();
    let (admin, token) = &cast.admins[0];
    for run in 0..NOTIFIER_RUNS {
        let stamps = send_to(app, token, group, batch).await;
        let event = group_stream_event(admin, group, &stamps, run * batch);
        let started = Instant::now();
        let (response, consumed) = measure(shared::realtime::notifier::handle(&notifier, event)).await;
        let elapsed = started.elapsed();
        assert!(response.expect("the notifier answers").batch_item_failures.is_empty(), "the notifier failed");
        measured.add(vec![(elapsed, consumed)]);
    }
    measured
}

/// The send and group-fetch tables: the sizes take turns round by round,
/// so each meets the same machine.
async fn by_group_size(app: &App, run: &str) {
    let logins = |role: &str, count: usize| (0..count).map(|i| format!("{run}-{role}-{i:04}")).collect::<Vec<_>>();
    let pair = |role: &'static str, count: usize| async move {
        let logins = logins(role, count);
        let tokens = register_all(app, &logins).await;
        logins.into_iter().zip(tokens).collect::<Vec<(String, String)>>()
    };
    let started = Instant::now();
    let cast = Cast { admins: pair("admin", CALLERS).await, readers: pair("reader", CALLERS).await };
    let shared_logins = logins("member", SIZES.iter().max().expect("sizes") - 2);
    register_all(app, &shared_logins).await;
    let mut groups_by_size = Vec::new();
    for size in SIZES {
        let building = (0..CALLERS).map(|caller| {
            let mut members = vec![cast.readers[caller].0.clone()];
            members.extend_from_slice(&shared_logins[..size - 2]);
            let admin = &cast.admins[caller].1;
            async move { group_of(app, admin, &members).await }
        });
        groups_by_size.push(stream::iter(building).buffered(SETUP_CONCURRENCY).collect::<Vec<String>>().await);
    }
    eprintln!("bench groups: {CALLERS} groups of each size set up in {:.0} s", started.elapsed().as_secs_f64());

    let mut figures: Vec<SizeFigures> = SIZES.iter().map(|_| SizeFigures::default()).collect();
    for round in 0..ROUNDS {
        for turn in 0..SIZES.len() {
            let s = (round + turn) % SIZES.len();
            figures[s].fetch.add(group_fetch_round(app, &cast, &groups_by_size[s]).await);
            figures[s].send.add(group_send_round(app, &cast, &groups_by_size[s], round).await);
        }
    }
    for (s, groups) in groups_by_size.iter().enumerate() {
        figures[s].member_list = measure(app.store.member_records(&group_id(&groups[0]))).await.1;
        figures[s].notifier = notifier_runs(app, &cast, &groups[0], 1).await;
        figures[s].notifier_batch = notifier_runs(app, &cast, &groups[0], NOTIFIER_BATCH).await;
    }

    println!(
        "\n### Group send: the request, and the notifier's work for it after it returns (1 KB messages; \
         {CALLERS} concurrent senders, each to a group of its own of that size, {ROUNDS} rounds of \
         {CALLS_PER_ROUND} sends each; the notifier's handler in-process on {NOTIFIER_RUNS} batches of one message and of {NOTIFIER_BATCH}, nobody connected)\n"
    );
    println!(
        "| members | send_message: read / write units | send_message handler p50 / p99 (ms) \
         | notifier: the member list | notifier: per other member (marker write, connection query) \
         | notifier: whole message | notifier handler p50 / p99 (ms) | send and notifier together \
         | notifier: a batch of {NOTIFIER_BATCH} of the group's messages | its handler p50 / p99 (ms) |"
    );
    println!("|---:|---|---|---|---|---|---|---|---|---|");
    for (size, SizeFigures { send, notifier, notifier_batch, member_list, .. }) in SIZES.iter().zip(&figures) {
        let others = (*size - 1) as f64;
        let per_member = |whole: &Consumed| Consumed {
            read: (whole.read - member_list.read) / others,
            write: (whole.write - member_list.write) / others,
        };
        let per_member = Measured { times: Vec::new(), units: notifier.units.iter().map(per_member).collect() };
        let sent = send.units[0];
        let together = |whole: &Consumed| Consumed { read: sent.read + whole.read, write: sent.write + whole.write };
        let together = Measured { times: Vec::new(), units: notifier.units.iter().map(together).collect() };
        println!(
            "| {size} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            send.capacity(),
            send.latency(),
            units(*member_list),
            per_member.capacity(),
            notifier.capacity(),
            notifier.latency(),
            together.capacity(),
            notifier_batch.capacity(),
            notifier_batch.latency(),
        );
    }
    println!("\n{NOTIFIER_NOTES}");

    println!(
        "\n### A member's fetch of a group's new messages, `fetch_new_messages {{\"group\"}}` ({NEW} new 1 KB messages; \
         {CALLERS} members fetching at once, each in a group of its own of that size, {ROUNDS} rounds)\n"
    );
    println!("| members | read / write units | handler p50 / p99 (ms) |\n|---:|---|---|");
    for (size, SizeFigures { fetch, .. }) in SIZES.iter().zip(&figures) {
        println!("| {size} | {} | {} |", fetch.capacity(), fetch.latency());
    }
}

/// What the notifier's figures leave out or show in a way to explain.
const NOTIFIER_NOTES: &str = "A member's marker costs 2 write units when it enters the pending index (the first \
     message since their last fetch of the group) and 1 while it stays there: hence the ranges. Nobody is connected \
     here, and DynamoDB Local counts a query that finds nothing as 0 units, so the connection queries show as 0 read \
     units; a connected member adds a read of their connections and a post per connection.";

/// The members of the whole-mailbox fetch table: `CALLERS` readers, each a
/// member of every group of `groups`, whose admin (by token) sends.
struct InGroups {
    admin: String,
    readers: Vec<String>,
    logins: Vec<String>,
    groups: Vec<String>,
}

/// The whole-mailbox fetch table: members of 1, 10 and 100 groups, the
/// counts taking turns round by round.
async fn by_group_count(app: &App, run: &str) {
    let started = Instant::now();
    let mut casts = Vec::new();
    for count in GROUP_COUNTS {
        let admin_login = format!("{run}-in-{count}-admin");
        let admin = register_all(app, std::slice::from_ref(&admin_login)).await.remove(0);
        let logins: Vec<String> = (0..CALLERS).map(|i| format!("{run}-in-{count}-reader-{i:02}")).collect();
        let readers = register_all(app, &logins).await;
        let building = (0..count).map(|_| group_of(app, &admin, &logins));
        let groups: Vec<String> = stream::iter(building).buffered(SETUP_CONCURRENCY).collect().await;
        casts.push(InGroups { admin, readers, logins, groups });
    }
    eprintln!("bench groups: members of 1, 10 and 100 groups set up in {:.0} s", started.elapsed().as_secs_f64());

    let mut new: Vec<Measured> = GROUP_COUNTS.iter().map(|_| Measured::default()).collect();
    let mut nothing: Vec<Measured> = GROUP_COUNTS.iter().map(|_| Measured::default()).collect();
    for round in 0..ROUNDS {
        for turn in 0..GROUP_COUNTS.len() {
            let c = (round + turn) % GROUP_COUNTS.len();
            let InGroups { admin, readers, logins, groups } = &casts[c];
            let group = &groups[round % groups.len()];
            let stamps = send_to(app, admin, group, NEW).await;
            note(app, logins, group, &stamps).await;
            new[c].add(by_callers(1, |caller| fetch(app, &readers[caller], json!({}), NEW)).await);
            nothing[c].add(by_callers(CALLS_PER_ROUND, |caller| fetch(app, &readers[caller], json!({}), 0)).await);
        }
    }

    println!(
        "\n### A member's fetch of the whole mailbox, `fetch_new_messages` without `group` (one-to-one and every \
         group merged), against the number of groups they are in (1 KB messages; {CALLERS} members of the same \
         groups fetching at once; {NEW} new in one group: {ROUNDS} rounds; nothing new: {ROUNDS} rounds of \
         {CALLS_PER_ROUND} calls each)\n"
    );
    println!(
        "| groups the member is in | {NEW} new in one group: read / write units | handler p50 / p99 (ms) \
         | nothing new: read / write units | handler p50 / p99 (ms) |"
    );
    println!("|---:|---|---|---|---|");
    for (c, count) in GROUP_COUNTS.iter().enumerate() {
        println!(
            "| {count} | {} | {} | {} | {} |",
            new[c].capacity(),
            new[c].latency(),
            nothing[c].capacity(),
            nothing[c].latency()
        );
    }
}

pub async fn run(app: &App) {
    // Logins of this run's own, so a run may follow another on one table.
    let run = format!("grp{:06x}", rand::random::<u32>() & 0xff_ffff);
    let started = Instant::now();
    by_group_size(app, &run).await;
    by_group_count(app, &run).await;
    eprintln!("bench groups: {:.0} s", started.elapsed().as_secs_f64());
}

/// Sends per second and 503s with concurrent senders to one group while
/// two fetchers of one member drain it, through the fault proxy applying
/// AWS's conflict rules: the group's senders take turns on its head.
pub async fn hot_group(app: &App, proxy: &FaultProxy) {
    println!(
        "\n### Hot group: {} messages to one group, two fetchers of one member draining it \
         (`fetch_new_messages {{\"group\"}}`), through the fault proxy with AWS's conflict rules ({} ms per transaction)\n",
        super::HOT_MESSAGES,
        super::HOT_TRANSACTION_TIME.as_millis()
    );
    hot_header();
    for senders in HOT_GROUP_SENDERS {
        let logins: Vec<String> = (0..=senders).map(|i| format!("hot-group-{senders}-{i}")).collect();
        let tokens = register_all(app, &logins).await;
        let group = group_of(app, &tokens[0], &logins[1..]).await;
        let send_body = |i: usize, m: usize| json!({"group": group, "message": format!("{i}:{m}")});
        let row = hot_run(app, proxy, &tokens[1..], &tokens[0], send_body, json!({"group": group, "limit": 100})).await;
        row.print(senders);
    }
}
