//! What the measured calls cost at on-demand prices (us-east-1): per
//! million calls of the HTTP API, and per connected user-hour of push
//! beside polling.

use shared::store::capacity::Consumed;

/// API Gateway HTTP API, per million requests.
const API_PER_MILLION: f64 = 1.00;
/// API Gateway WebSocket API: connection minutes, and messages (the first
/// billion a month) metered in 32 KB units.
const WEBSOCKET_CONNECTION_MINUTES_PER_MILLION: f64 = 0.25;
const WEBSOCKET_MESSAGES_PER_MILLION: f64 = 1.00;
const WEBSOCKET_MESSAGE_UNIT_BYTES: usize = 32 * 1024;
/// Lambda arm64.
const LAMBDA_REQUESTS_PER_MILLION: f64 = 0.20;
const LAMBDA_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// template.yaml's memory sizes: the functions' default, and `$default`'s.
const LAMBDA_MEMORY_GB: f64 = 0.25;
const DEFAULT_ROUTE_MEMORY_GB: f64 = 0.125;
/// DynamoDB on-demand request units.
const DYNAMODB_WRITE_PER_MILLION: f64 = 0.625;
const DYNAMODB_READ_PER_MILLION: f64 = 0.125;

/// The connected user of the per-hour comparison.
const MINUTES_PER_HOUR: f64 = 60.0;
const PING_EVERY_MINUTES: f64 = 5.0;
/// A ping is one message in (the client's) and one out (the pong).
const MESSAGES_PER_PING: f64 = 2.0;
const MESSAGES_RECEIVED_PER_HOUR: f64 = 60.0;
const POLL_EVERY_SECONDS: f64 = 5.0;

/// Lambda's price of one invocation at `memory_gb` running `duration_ms`,
/// in dollars per million invocations.
fn lambda_per_million(memory_gb: f64, duration_ms: f64) -> f64 {
    LAMBDA_REQUESTS_PER_MILLION + LAMBDA_PER_GB_SECOND * memory_gb * duration_ms / 1000.0 * 1e6
}

/// DynamoDB's price of `consumed`, in dollars per million.
fn dynamodb_per_million(consumed: Consumed) -> f64 {
    consumed.write * DYNAMODB_WRITE_PER_MILLION + consumed.read * DYNAMODB_READ_PER_MILLION
}

/// Lambda bills whole milliseconds.
fn billed_ms(duration_ms: f64) -> f64 {
    duration_ms.ceil().max(1.0)
}

fn cost_row(what: &str, consumed: Consumed, duration_ms: f64) {
    let lambda = lambda_per_million(LAMBDA_MEMORY_GB, duration_ms);
    let dynamodb = dynamodb_per_million(consumed);
    let total = API_PER_MILLION + lambda + dynamodb;
    println!("| {what} | ${API_PER_MILLION:.2} | ${lambda:.2} | ${dynamodb:.2} | **${total:.2}** |");
}

/// `send` and `fetch`: the capacity of one send and of one fetch of 10
/// new messages; the durations are the handlers' p50 (ms).
pub fn per_million_calls(send: Consumed, fetch: Consumed, (send_ms, fetch_ms): (f64, f64)) {
    println!("\n### Cost per million calls at on-demand prices (us-east-1; Lambda arm64 at 256 MB billed for the handler p50 above)\n");
    println!("| call | API Gateway | Lambda | DynamoDB | total |\n|---|---:|---:|---:|---:|");
    cost_row("send_message (1 KB)", send, send_ms);
    cost_row("fetch_new_messages (10 new)", fetch, fetch_ms);
}

/// What push measured: the `$default` handler (a ping) and the notifier
/// (one record to one connection), p50 in ms, the notifier's capacity
/// (its connection query) and the size of a pushed frame.
pub struct PushMeasured {
    pub ping_ms: f64,
    pub notifier_ms: f64,
    pub notifier: Consumed,
    pub frame_bytes: usize,
}

/// What polling measured: an empty fetch_new_messages' handler p50 (ms)
/// and capacity.
pub struct PollMeasured {
    pub fetch_ms: f64,
    pub fetch: Consumed,
}

/// Dollars per million user-hours (millionths of a dollar per user-hour),
/// by service.
#[derive(Debug, PartialEq)]
struct HourCost {
    api_gateway: f64,
    lambda: f64,
    dynamodb: f64,
}

impl HourCost {
    fn total(&self) -> f64 {
        self.api_gateway + self.lambda + self.dynamodb
    }
}

/// A user connected for an hour, pinging every 5 minutes and receiving
/// each message as one frame, one notifier invocation and one connection
/// query (a quiet stream gives the notifier one record per batch).
fn push_hour(push: &PushMeasured) -> HourCost {
    let pings = MINUTES_PER_HOUR / PING_EVERY_MINUTES;
    let received = MESSAGES_RECEIVED_PER_HOUR;
    let units_per_frame = push.frame_bytes.div_ceil(WEBSOCKET_MESSAGE_UNIT_BYTES) as f64;
    let messages = pings * MESSAGES_PER_PING + received * units_per_frame;
    HourCost {
        api_gateway: MINUTES_PER_HOUR * WEBSOCKET_CONNECTION_MINUTES_PER_MILLION
            + messages * WEBSOCKET_MESSAGES_PER_MILLION,
        lambda: pings * lambda_per_million(DEFAULT_ROUTE_MEMORY_GB, billed_ms(push.ping_ms))
            + received * lambda_per_million(LAMBDA_MEMORY_GB, billed_ms(push.notifier_ms)),
        dynamodb: received * dynamodb_per_million(push.notifier),
    }
}

/// A user calling fetch_new_messages every 5 seconds for an hour, each
/// call priced as an empty one.
fn poll_hour(poll: &PollMeasured) -> HourCost {
    let calls = MINUTES_PER_HOUR * 60.0 / POLL_EVERY_SECONDS;
    HourCost {
        api_gateway: calls * API_PER_MILLION,
        lambda: calls * lambda_per_million(LAMBDA_MEMORY_GB, billed_ms(poll.fetch_ms)),
        dynamodb: calls * dynamodb_per_million(poll.fetch),
    }
}

fn hour_row(what: &str, cost: &HourCost) {
    let HourCost { api_gateway, lambda, dynamodb } = cost;
    let total = cost.total();
    println!("| {what} | ${api_gateway:.2} | ${lambda:.2} | ${dynamodb:.2} | **${total:.2}** | ${:.6} |", total / 1e6);
}

pub fn per_user_hour(push: &PushMeasured, poll: &PollMeasured) {
    let (pushing, polling) = (push_hour(push), poll_hour(poll));
    println!("\n### Cost per connected user-hour: push beside polling every 5 s (on-demand, us-east-1)\n");
    println!(
        "A user connected for one hour who receives {MESSAGES_RECEIVED_PER_HOUR:.0} messages (1 KB) in it. \
         Push: {MINUTES_PER_HOUR:.0} WebSocket connection minutes; a ping every {PING_EVERY_MINUTES:.0} minutes \
         (2 WebSocket messages and a `$default` invocation at 128 MB, {:.3} ms in-process, billed 1 ms); \
         per message received, one {}-byte frame ({} WebSocket message unit) and, as on a quiet stream, \
         a notifier invocation of its own at 256 MB ({:.1} ms in-process) with its connection query \
         ({:.1} R / {:.1} W). Polling: fetch_new_messages every {POLL_EVERY_SECONDS:.0} s, 720 calls, each an \
         HTTP API request and an invocation at 256 MB ({:.1} ms, the handler p50 above, billed in whole ms) \
         that reads as an empty fetch does ({:.1} R / {:.1} W). Left out of both: the sends, the fetches \
         that return the messages, and (push) getting a ticket and connecting, once per socket of up to 2 hours.\n",
        push.ping_ms,
        push.frame_bytes,
        push.frame_bytes.div_ceil(WEBSOCKET_MESSAGE_UNIT_BYTES),
        push.notifier_ms,
        push.notifier.read,
        push.notifier.write,
        poll.fetch_ms,
        poll.fetch.read,
        poll.fetch.write,
    );
    println!("| client | API Gateway | Lambda | DynamoDB | per million user-hours | per user-hour |");
    println!("|---|---:|---:|---:|---:|---:|");
    hour_row("push over a WebSocket", &pushing);
    hour_row("polling every 5 s", &polling);
    println!("\nPolling every 5 s costs {:.1}× as much as push.", polling.total() / pushing.total());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn an_hour_of_push_counts_minutes_pings_and_frames() {
        let push = PushMeasured {
            ping_ms: 0.01,
            notifier_ms: 9.2,
            notifier: Consumed { read: 1.0, write: 0.0 },
            frame_bytes: 1200,
        };
        let cost = push_hour(&push);
        // 60 minutes at $0.25 and 12 pings × 2 + 60 frames at $1.00.
        assert!(close(cost.api_gateway, 15.0 + 84.0), "{cost:?}");
        // 12 × (0.20 + 1 ms at 128 MB) + 60 × (0.20 + 10 ms at 256 MB).
        let expected =
            12.0 * (0.2 + 0.000_013_333_4 * 0.125 * 0.001 * 1e6) + 60.0 * (0.2 + 0.000_013_333_4 * 0.25 * 0.010 * 1e6);
        assert!(close(cost.lambda, expected), "{cost:?}");
        assert!(close(cost.dynamodb, 60.0 * 0.125), "{cost:?}");
        let large = PushMeasured { frame_bytes: 32 * 1024 + 1, ..push };
        assert!(close(push_hour(&large).api_gateway, 15.0 + 24.0 + 120.0));
    }

    #[test]
    fn an_hour_of_polling_is_720_empty_fetches() {
        let poll = PollMeasured { fetch_ms: 10.4, fetch: Consumed { read: 1.5, write: 0.0 } };
        let cost = poll_hour(&poll);
        assert!(close(cost.api_gateway, 720.0), "{cost:?}");
        assert!(close(cost.lambda, 720.0 * (0.2 + 0.000_013_333_4 * 0.25 * 0.011 * 1e6)), "{cost:?}");
        assert!(close(cost.dynamodb, 720.0 * 1.5 * 0.125), "{cost:?}");
    }
}
