//! Which of a member's groups hold messages they have not read. Owns the
//! markers (`USER#<login>`, `GPENDING#<group>`: `group`, `notified_through`?,
//! `pending_since`?), made with a membership and deleted with it
//! (`groups.rs`), noted after each group message from the table's stream
//! (the notifier), and tidied by the fetch that drains the group.
//!
//! `pending_since` puts a marker in the `by_pending` index beside the
//! pairs, so one read of the index tells a fetch which senders and which
//! groups to read, however many groups the member is in. The marker is an
//! item of its own, apart from the member's read state, so the stream's
//! writes never meet a fetch's transaction on one item.

use aws_sdk_dynamodb::types::TransactWriteItem;
use futures::future::join_all;
use serde::Serialize;

use super::capacity::Counted;
use super::{key, keyed, s, user_pk, Item, Store, StoreError};
use crate::model::{GroupId, Identifier, Timestamp};

pub(super) const MARKER_PREFIX: &str = "GPENDING#";

pub(super) fn marker_key(login: &Identifier, group: &GroupId) -> Item {
    key(user_pk(login.as_str()), format!("{MARKER_PREFIX}{group}"))
}

#[derive(Serialize)]
struct NewMarker<'a> {
    group: &'a GroupId,
}

impl Store {
    /// The put of a new member's marker, with nothing pending.
    pub(super) fn new_marker(&self, login: &Identifier, group: &GroupId) -> Result<TransactWriteItem, StoreError> {
        self.put_new(keyed(marker_key(login, group), &NewMarker { group })?)
    }

    /// Notes that `group` holds messages dated `oldest` to `newest` that
    /// `member` has not read. Nothing changes for a member who left (their
    /// marker is gone), or when `newest` or a later message was noted
    /// already: a stream record may come again after a failure, and the
    /// bound it would set is no truer.
    pub async fn note_group_messages(
        &self,
        member: &Identifier,
        group: &GroupId,
        oldest: Timestamp,
        newest: Timestamp,
    ) -> Result<(), StoreError> {
        let noted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(marker_key(member, group)))
            .update_expression("SET notified_through = :newest, pending_since = if_not_exists(pending_since, :oldest)")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(notified_through) OR notified_through < :newest)",
            )
            .expression_attribute_values(":oldest", s(oldest.to_string()))
            .expression_attribute_values(":newest", s(newest.to_string()))
            .counted()
            .await;
        match noted {
            Err(error) if !error.is_failed_condition() => Err(error),
            _ => Ok(()),
        }
    }

    /// Whether a group may hold messages `member` has not read: one
    /// strongly consistent read of their marker, a read unit, so a
    /// long-poll can ask it every second. A marker a fetch has not tidied
    /// yet counts too; the fetch that follows tidies it. `None` when they
    /// are not a member (every member has a marker).
    pub async fn group_may_have_new(&self, member: &Identifier, group: &GroupId) -> Result<Option<bool>, StoreError> {
        let marker = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(marker_key(member, group)))
            .projection_expression("pending_since")
            .consistent_read(true)
            .counted()
            .await?;
        Ok(marker.item().map(|item| item.contains_key("pending_since")))
    }

    /// Takes the markers of groups a fetch drained out of the pending
    /// index: each group with the member's read position after the fetch.
    /// A marker stays while a message past that position was noted.
    /// Best effort, as for pairs (`pairs.rs`): a marker left behind costs
    /// the next fetch a read, and that fetch tries again.
    pub(super) async fn tidy_markers(&self, member: &Identifier, drained: Vec<(GroupId, Timestamp)>) {
        let updates = drained.into_iter().map(|(group, position)| {
            let update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(marker_key(member, &group)))
                .update_expression("REMOVE pending_since")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(notified_through) OR notified_through <= :position)")
                .expression_attribute_values(":position", s(position.to_string()));
            async move {
                let Err(error) = update.counted().await else { return };
                if !error.is_failed_condition() {
                    tracing::info!(%error, "group left in the pending index");
                }
            }
        });
        join_all(updates).await;
    }
}
