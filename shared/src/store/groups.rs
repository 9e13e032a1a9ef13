//! Groups and their members. Owns a group's head (`GROUP#<id>`, `GROUP`:
//! `name`, `admin`, `created_at`, `members`, and `last_message_at`, `sent`
//! written by `group_sending.rs`), its member records (`GROUP#<id>`,
//! `MEMBER#<login>`: `login`, `joined_at`), and each member's own side of
//! the membership (`USER#<login>`, `GROUP#<id>`: `group`, `joined_at`, and
//! the read state `group_fetch.rs` keeps: `fetched_through`, `ahead`, `rev`),
//! made and deleted with the member's marker (`group_pending.rs`).
//!
//! A member's side starts at the head's `last_message_at` as it was read
//! when they joined: what was sent before is not theirs. Leaving deletes
//! both records, so a removed member keeps nothing new and a member added
//! again starts afresh. The member count lives on the head and each change
//! of membership conditions on it, so a group never passes 1000 members.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use super::group_pending::marker_key;
use super::transaction::{after_losses, Transaction};
use super::{key, keyed, n, query_all, s, user_pk, Item, Store, StoreError};
use crate::model::{GroupId, Identifier, Timestamp, MAX_GROUP_MEMBERS};

const HEAD_SK: &str = "GROUP";
const MEMBER_PREFIX: &str = "MEMBER#";
/// The prefix of a member's side of their memberships, in their partition.
const MEMBERSHIP_PREFIX: &str = "GROUP#";

pub(super) fn group_pk(group: &GroupId) -> String {
    format!("GROUP#{group}")
}

pub(super) fn head_key(group: &GroupId) -> Item {
    key(group_pk(group), HEAD_SK)
}

pub(super) fn member_key(group: &GroupId, login: &Identifier) -> Item {
    key(group_pk(group), format!("{MEMBER_PREFIX}{login}"))
}

pub(super) fn membership_key(login: &Identifier, group: &GroupId) -> Item {
    key(user_pk(login.as_str()), format!("{MEMBERSHIP_PREFIX}{group}"))
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Head {
    pub(super) name: String,
    pub(super) admin: Identifier,
    pub(super) created_at: Timestamp,
    pub(super) members: u64,
    #[serde(default)]
    pub(super) last_message_at: Option<Timestamp>,
}

#[derive(Serialize)]
struct NewHead<'a> {
    group: &'a GroupId,
    name: &'a str,
    admin: &'a Identifier,
    created_at: Timestamp,
    members: usize,
}

/// One member of a group, and since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMember {
    pub login: Identifier,
    pub joined_at: Timestamp,
}

/// A member's side of a membership: their read state in the group. A
/// message of the group is read by them when it is at or before
/// `fetched_through`, or at or before `ahead[sender]` (fetched with a
/// `sender` filter, ahead of the rest). Their own messages are never new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Membership {
    pub(super) group: GroupId,
    pub(super) joined_at: Timestamp,
    /// The group's newest message when they joined: theirs are the later ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) joined_after: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) fetched_through: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) ahead: BTreeMap<Identifier, Timestamp>,
    /// Bumped by every fetch that moves the read state, which conditions
    /// on it: two fetches never both return a message.
    #[serde(default)]
    pub(super) rev: u64,
}

/// A group as its members see it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    pub group: GroupId,
    pub name: String,
    pub admin: Identifier,
    pub members: Vec<GroupMember>,
}

/// What became of a change of membership. Anyone who is not a member gets
/// `NoGroup`, as for a group that does not exist.
#[derive(Debug, PartialEq)]
pub enum GroupChange<T> {
    Done(T),
    NoGroup,
    NotAdmin,
    /// The named login is not a member.
    NotAMember,
    /// No user holds the named login.
    UnknownUser(Identifier),
    /// The change would pass the cap; the group has `members` now.
    Full {
        members: u64,
    },
}

/// Members added by add_members, and the group's size after it.
#[derive(Debug, PartialEq)]
pub struct Added {
    pub added: Vec<Identifier>,
    pub members: u64,
}

/// One of a user's groups, as GET /groups lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub group: GroupId,
    pub name: String,
    pub last_message_at: Option<Timestamp>,
    /// Messages of others the user has not read.
    pub new_messages: u64,
    /// The last message's time, else the group's creation: what the list
    /// is sorted by.
    pub active_at: Timestamp,
}

/// A head and the member records asked for with it, as read together.
pub(super) struct Looked {
    pub(super) head: Option<Head>,
    pub(super) members: BTreeSet<Identifier>,
}

impl Store {
    /// Creates a group of `creator` (its admin) and `others`, who must be
    /// registered users (the caller checks).
    pub async fn create_group(
        &self,
        creator: &Identifier,
        name: &str,
        others: &[Identifier],
    ) -> Result<GroupView, StoreError> {
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            // 128 random bits: a taken id is only possible in theory, and
            // the head's put would refuse it.
            if let Some(view) = self.put_group(&GroupId::random(), creator, name, others, Timestamp::now()).await? {
                return Ok(view);
            }
            losses += 1;
        }
    }

    /// Creates a group under a chosen id and creation time, unless the id
    /// is taken (then `false`): for seeding demo data and importing.
    pub async fn import_group(
        &self,
        group: &GroupId,
        creator: &Identifier,
        name: &str,
        others: &[Identifier],
        created_at: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(self.put_group(group, creator, name, others, created_at).await?.is_some())
    }

    /// One transaction that makes a group's head and its members' records;
    /// `None` if it was cancelled (the id is taken).
    async fn put_group(
        &self,
        group: &GroupId,
        creator: &Identifier,
        name: &str,
        others: &[Identifier],
        created_at: Timestamp,
    ) -> Result<Option<GroupView>, StoreError> {
        let members: BTreeSet<&Identifier> = others.iter().chain([creator]).collect();
        let head = NewHead { group, name, admin: creator, created_at, members: members.len() };
        let mut items = vec![self.put_new(keyed(head_key(group), &head)?)?];
        for member in &members {
            items.extend(self.join_items(group, member, created_at, None)?);
        }
        if let Transaction::Cancelled(_) = self.transact(items).await? {
            return Ok(None);
        }
        let members = members.into_iter().map(|login| GroupMember { login: login.clone(), joined_at: created_at });
        Ok(Some(GroupView {
            group: group.clone(),
            name: name.to_owned(),
            admin: creator.clone(),
            members: members.collect(),
        }))
    }

    /// Adds registered users to a group, as its admin; members already in
    /// it stay as they are. Whether the logins exist is asked once the
    /// caller is known to be the admin, so that a member who is not learns
    /// only that (403), as the contract orders the checks.
    pub async fn add_members(
        &self,
        group: &GroupId,
        admin: &Identifier,
        logins: &[Identifier],
    ) -> Result<GroupChange<Added>, StoreError> {
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            let looked = self.look(group, admin, logins).await?;
            let head = match admin_head(looked.head, &looked.members, admin) {
                Ok(head) => head,
                Err(refused) => return Ok(refused),
            };
            let added: Vec<Identifier> =
                logins.iter().filter(|login| !looked.members.contains(*login)).cloned().collect();
            if let Some(unknown) = self.unknown_users(&added).await?.pop() {
                return Ok(GroupChange::UnknownUser(unknown));
            }
            let members = head.members + added.len() as u64;
            if added.is_empty() {
                return Ok(GroupChange::Done(Added { added, members }));
            }
            if members > MAX_GROUP_MEMBERS as u64 {
                return Ok(GroupChange::Full { members: head.members });
            }
            // The count condition serialises changes of membership, so the
            // cap holds whatever runs beside this.
            let count = Update::builder()
                .table_name(&self.table)
                .set_key(Some(head_key(group)))
                .update_expression("SET members = :members")
                .condition_expression("admin = :admin AND members = :count")
                .expression_attribute_values(":admin", s(admin.as_str()))
                .expression_attribute_values(":members", n(members))
                .expression_attribute_values(":count", n(head.members))
                .build()?;
            let mut items = vec![TransactWriteItem::builder().update(count).build()];
            let joined_at = Timestamp::now();
            for login in &added {
                items.extend(self.join_items(group, login, joined_at, head.last_message_at)?);
            }
            match self.transact(items).await? {
                Transaction::Committed => return Ok(GroupChange::Done(Added { added, members })),
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }

    /// Removes `member` from a group, as its admin.
    pub async fn remove_member(
        &self,
        group: &GroupId,
        admin: &Identifier,
        member: &Identifier,
    ) -> Result<GroupChange<()>, StoreError> {
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            let looked = self.look(group, admin, std::slice::from_ref(member)).await?;
            let head = match admin_head(looked.head, &looked.members, admin) {
                Ok(head) => head,
                Err(refused) => return Ok(refused),
            };
            if !looked.members.contains(member) {
                return Ok(GroupChange::NotAMember);
            }
            let count = self.count_update(group, &head, admin, None)?;
            let mut items = vec![TransactWriteItem::builder().update(count).build()];
            items.extend(self.leave_items(group, member)?);
            match self.transact(items).await? {
                Transaction::Committed => return Ok(GroupChange::Done(())),
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }

    /// Takes the caller out of a group. An admin who leaves others behind
    /// hands the group to the member who joined first.
    pub async fn leave_group(&self, group: &GroupId, login: &Identifier) -> Result<GroupChange<()>, StoreError> {
        let mut losses = 0;
        loop {
            after_losses(losses).await?;
            let looked = self.look(group, login, &[]).await?;
            let Some(head) = looked.head.filter(|_| looked.members.contains(login)) else {
                return Ok(GroupChange::NoGroup);
            };
            let successor = if head.admin == *login && head.members > 1 {
                let members = self.member_records(group).await?;
                successor(&members, login)
            } else {
                None
            };
            let count = self.count_update(group, &head, &head.admin, successor.as_ref())?;
            let mut items = vec![TransactWriteItem::builder().update(count).build()];
            if let Some(successor) = &successor {
                // The successor may be leaving too: then this reads again.
                let stays = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(member_key(group, successor)))
                    .condition_expression("attribute_exists(pk)")
                    .build()?;
                items.push(TransactWriteItem::builder().condition_check(stays).build());
            }
            items.extend(self.leave_items(group, login)?);
            match self.transact(items).await? {
                Transaction::Committed => return Ok(GroupChange::Done(())),
                Transaction::Cancelled(_) => losses += 1,
            }
        }
    }

    /// The group with its members, if `caller` is one of them.
    pub async fn group_view(&self, group: &GroupId, caller: &Identifier) -> Result<Option<GroupView>, StoreError> {
        let (head, members) = futures::try_join!(self.head(group), self.member_records(group))?;
        let (Some(head), true) = (head, members.iter().any(|member| member.login == *caller)) else {
            return Ok(None);
        };
        Ok(Some(GroupView { group: group.clone(), name: head.name, admin: head.admin, members }))
    }

    /// The groups `login` is a member of, most recently active first.
    pub async fn groups_of(&self, login: &Identifier) -> Result<Vec<GroupRow>, StoreError> {
        let memberships = self.memberships(login).await?;
        let ids: Vec<GroupId> = memberships.iter().map(|m| m.group.clone()).collect();
        let counts = memberships.iter().map(|membership| self.unread_count(login, membership));
        let (heads, counts) = futures::try_join!(self.heads(&ids), futures::future::try_join_all(counts))?;
        let mut rows: Vec<GroupRow> = memberships
            .into_iter()
            .zip(counts)
            .filter_map(|(membership, new_messages)| {
                let head = heads.get(&membership.group)?;
                Some(GroupRow {
                    name: head.name.clone(),
                    last_message_at: head.last_message_at,
                    new_messages,
                    active_at: head.last_message_at.unwrap_or(head.created_at),
                    group: membership.group,
                })
            })
            .collect();
        rows.sort_by(|a, b| b.active_at.cmp(&a.active_at).then_with(|| a.group.cmp(&b.group)));
        Ok(rows)
    }

    /// The caller's side of their membership in a group, if they are a member.
    pub(super) async fn membership(
        &self,
        login: &Identifier,
        group: &GroupId,
    ) -> Result<Option<Membership>, StoreError> {
        Ok(self.batch_get(vec![membership_key(login, group)], None).await?.pop())
    }

    /// Every membership of a user.
    pub(super) async fn memberships(&self, login: &Identifier) -> Result<Vec<Membership>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(user_pk(login.as_str())))
            .expression_attribute_values(":prefix", s(MEMBERSHIP_PREFIX))
            .consistent_read(true);
        Ok(serde_dynamo::from_items(query_all(query).await?)?)
    }

    /// The heads of `groups` that exist, by group.
    pub(super) async fn heads(&self, groups: &[GroupId]) -> Result<BTreeMap<GroupId, Head>, StoreError> {
        #[derive(Deserialize)]
        struct Keyed {
            group: GroupId,
            #[serde(flatten)]
            head: Head,
        }
        let keys = groups.iter().map(head_key).collect();
        let heads: Vec<Keyed> = self.batch_get(keys, None).await?;
        Ok(heads.into_iter().map(|keyed| (keyed.group, keyed.head)).collect())
    }

    async fn head(&self, group: &GroupId) -> Result<Option<Head>, StoreError> {
        Ok(self.heads(std::slice::from_ref(group)).await?.into_values().next())
    }

    /// Every member of a group, in login order.
    pub async fn member_records(&self, group: &GroupId) -> Result<Vec<GroupMember>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(group_pk(group)))
            .expression_attribute_values(":prefix", s(MEMBER_PREFIX))
            .consistent_read(true);
        Ok(serde_dynamo::from_items(query_all(query).await?)?)
    }

    /// Which of `logins` are members of a group: a query of each one's
    /// member record (the notifier may query, not batch-get).
    pub(super) async fn members_among(
        &self,
        group: &GroupId,
        logins: impl Iterator<Item = &Identifier>,
    ) -> Result<BTreeSet<Identifier>, StoreError> {
        let asks = logins.map(|login| async move {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk = :sk")
                .expression_attribute_values(":pk", s(group_pk(group)))
                .expression_attribute_values(":sk", s(format!("{MEMBER_PREFIX}{login}")))
                .consistent_read(true);
            Ok::<_, StoreError>((!query_all(query).await?.is_empty()).then(|| login.clone()))
        });
        Ok(futures::future::try_join_all(asks).await?.into_iter().flatten().collect())
    }

    /// The head, and which of `caller` and `logins` are members, in one read.
    pub(super) async fn look(
        &self,
        group: &GroupId,
        caller: &Identifier,
        logins: &[Identifier],
    ) -> Result<Looked, StoreError> {
        let asked: BTreeSet<&Identifier> = logins.iter().chain([caller]).collect();
        let mut keys = vec![head_key(group)];
        // BatchGetItem refuses a key asked twice (the caller may be listed).
        keys.extend(asked.into_iter().map(|login| member_key(group, login)));
        let mut head = None;
        let mut members = BTreeSet::new();
        for item in self.batch_get_items(keys, None).await? {
            if item.get("sk").and_then(|sk| sk.as_s().ok()).is_some_and(|sk| sk == HEAD_SK) {
                head = Some(serde_dynamo::from_item(item)?);
            } else {
                members.insert(serde_dynamo::from_item::<_, GroupMember>(item)?.login);
            }
        }
        Ok(Looked { head, members })
    }

    /// The records a member's join writes: theirs in the group, and their
    /// side, which starts after the group's newest message (`after`).
    fn join_items(
        &self,
        group: &GroupId,
        login: &Identifier,
        joined_at: Timestamp,
        after: Option<Timestamp>,
    ) -> Result<[TransactWriteItem; 3], StoreError> {
        let member = GroupMember { login: login.clone(), joined_at };
        let side = Membership {
            group: group.clone(),
            joined_at,
            joined_after: after,
            fetched_through: after,
            ahead: BTreeMap::new(),
            rev: 0,
        };
        Ok([
            self.put_new(keyed(member_key(group, login), &member)?)?,
            self.put_new(keyed(membership_key(login, group), &side)?)?,
            self.new_marker(login, group)?,
        ])
    }

    /// The deletes of a member's records; the member record must be there.
    fn leave_items(&self, group: &GroupId, login: &Identifier) -> Result<[TransactWriteItem; 3], StoreError> {
        let record = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(member_key(group, login)))
            .condition_expression("attribute_exists(pk)")
            .build()?;
        let delete = |key| Delete::builder().table_name(&self.table).set_key(Some(key)).build();
        let side = delete(membership_key(login, group))?;
        let marker = delete(marker_key(login, group))?;
        Ok([record, side, marker].map(|delete| TransactWriteItem::builder().delete(delete).build()))
    }

    /// The head's update for one member fewer, made while `admin` is its
    /// admin; `successor` takes over, if given.
    fn count_update(
        &self,
        group: &GroupId,
        head: &Head,
        admin: &Identifier,
        successor: Option<&Identifier>,
    ) -> Result<Update, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(head_key(group)))
            .condition_expression("admin = :admin AND members = :count")
            .expression_attribute_values(":admin", s(admin.as_str()))
            .expression_attribute_values(":count", n(head.members))
            .expression_attribute_values(":members", n(head.members.saturating_sub(1)));
        let update = match successor {
            Some(successor) => update
                .update_expression("SET members = :members, admin = :successor")
                .expression_attribute_values(":successor", s(successor.as_str())),
            None => update.update_expression("SET members = :members"),
        };
        Ok(update.build()?)
    }
}

/// The head of a group that `caller` administers, or why not: a caller who
/// is not a member learns nothing of the group.
fn admin_head<T>(
    head: Option<Head>,
    members: &BTreeSet<Identifier>,
    caller: &Identifier,
) -> Result<Head, GroupChange<T>> {
    match head {
        Some(head) if members.contains(caller) && head.admin == *caller => Ok(head),
        Some(_) if members.contains(caller) => Err(GroupChange::NotAdmin),
        _ => Err(GroupChange::NoGroup),
    }
}

/// Who takes a group over from a leaving admin: the member who joined
/// first, the lowest login among equals.
fn successor(members: &[GroupMember], leaving: &Identifier) -> Option<Identifier> {
    members
        .iter()
        .filter(|member| member.login != *leaving)
        .min_by(|a, b| (a.joined_at, &a.login).cmp(&(b.joined_at, &b.login)))
        .map(|member| member.login.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(login: &str, second: u32) -> GroupMember {
        let joined_at = Timestamp::parse("t", &format!("2026-01-01T00:00:{second:02}Z")).expect("timestamp");
        GroupMember { login: Identifier::parse("login", login).expect("login"), joined_at }
    }

    #[test]
    fn the_first_to_join_succeeds_a_leaving_admin() {
        let members = [member("ann", 1), member("zed", 2), member("bob", 2), member("amy", 3)];
        // (case, members, leaving, successor)
        let cases = [
            ("the earliest", &members[..], "amy", Some("ann")),
            ("ties by login", &members[..], "ann", Some("bob")),
            ("alone", &members[..1], "ann", None),
        ];
        for (case, members, leaving, expected) in cases {
            let successor = successor(members, &Identifier::parse("login", leaving).unwrap());
            assert_eq!(successor.as_ref().map(Identifier::as_str), expected, "{case}");
        }
    }

    #[test]
    fn only_the_admin_changes_membership_and_strangers_learn_nothing() {
        let head = Head {
            name: "team".into(),
            admin: Identifier::parse("a", "ann").unwrap(),
            created_at: Timestamp::now(),
            members: 2,
            last_message_at: None,
        };
        let members: BTreeSet<Identifier> = ["ann", "bob"].map(|l| Identifier::parse("l", l).unwrap()).into();
        let check = |caller: &str, head: Option<Head>| {
            admin_head::<()>(head, &members, &Identifier::parse("c", caller).unwrap()).map(|_| ())
        };
        assert_eq!(check("ann", Some(head.clone())), Ok(()));
        assert_eq!(check("bob", Some(head.clone())), Err(GroupChange::NotAdmin));
        assert_eq!(check("eve", Some(head)), Err(GroupChange::NoGroup));
        assert_eq!(check("ann", None), Err(GroupChange::NoGroup));
    }
}
