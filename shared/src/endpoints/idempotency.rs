//! Requests with an `Idempotency-Key` (send_message, fetch_new_messages): a
//! repeat within the record's window gets the first response and changes
//! nothing; the same key with another request is a 409.

use serde_json::Value;

use crate::error::ApiError;
use crate::model::Identifier;
use crate::store::{IdempotencyClaim, Recorded, StoreError};

/// Rounds of "look up the key, else try to claim it": a claim loses only to
/// a twin request that recorded first, which the next look-up finds.
const ROUNDS: usize = 3;

/// The claim of `caller`'s request to `endpoint` on `key`, if it sent one;
/// `request` holds what makes two requests the same.
pub(super) fn claim(
    endpoint: &str,
    caller: &Identifier,
    key: Option<String>,
    request: Value,
) -> Option<IdempotencyClaim> {
    key.map(|key| IdempotencyClaim::new(endpoint, caller, &key, &request.to_string()))
}

/// A change that an endpoint makes at most once per key.
pub(super) trait Idempotent {
    type Response;

    /// What an earlier request with the claim's key recorded, if any.
    async fn earlier(&self, claim: &IdempotencyClaim) -> Result<Option<Recorded<Self::Response>>, StoreError>;

    /// Makes the change, recording its response under the claim's key in
    /// the same transaction; `None` when a twin request recorded first.
    async fn act(&self, claim: Option<&IdempotencyClaim>) -> Result<Option<Self::Response>, ApiError>;
}

/// Answers a request at most once per key: with a claim, the response an
/// earlier request with the key recorded, else `change`'s own (a claim
/// that a twin request beat is looked up again in the next round).
pub(super) async fn once<C: Idempotent>(claim: Option<&IdempotencyClaim>, change: C) -> Result<C::Response, ApiError> {
    for _ in 0..ROUNDS {
        if let Some(claim) = claim {
            match change.earlier(claim).await? {
                Some(Recorded::Response(response)) => return Ok(response),
                Some(Recorded::OtherRequest) => {
                    return Err(ApiError::Conflict(
                        "this Idempotency-Key was already used with a different request; use a new key".into(),
                    ))
                }
                None => {}
            }
        }
        if let Some(response) = change.act(claim).await? {
            return Ok(response);
        }
    }
    Err(ApiError::Unavailable(StoreError::Contention))
}
