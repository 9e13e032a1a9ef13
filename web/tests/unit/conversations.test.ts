// The conversation list: the API's rows, pushes and local activity, for
// conversations and groups together.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message } from "../../src/api.ts";
import {
  directKey,
  groupKey,
  knows,
  ordered,
  splitLogins,
  titleOf,
  withActivity,
  withGroup,
  withGroupRows,
  withIncoming,
  withRead,
  withRows,
} from "../../src/conversations.ts";

const message = (sender: string, timestamp: string): Message => ({ sender, recipient: "me", timestamp, message: "hi" });
const inGroup = (group: string, sender: string, timestamp: string): Message => ({
  ...message(sender, timestamp),
  group,
});
const at = (hour: number) => `2026-11-21T${String(hour).padStart(2, "0")}:00:00.000000Z`;

test("rows, pushes and reads keep each conversation's unread count", () => {
  let list = withRows(new Map(), [
    { with: "bob", last_message_at: "2026-11-21T10:00:00.000000Z", new_messages: 2 },
    { with: "carol", last_message_at: "2026-11-21T09:00:00.000000Z", new_messages: 0 },
  ]);
  list = withIncoming(list, message("carol", "2026-11-21T11:00:00.000000Z"), false);
  list = withIncoming(list, message("bob", "2026-11-21T11:30:00.000000Z"), true);
  assert.deepEqual(
    ordered(list).map((c) => [titleOf(c), c.unread]),
    [
      ["bob", 0],
      ["carol", 1],
    ],
  );
  assert.equal(ordered(withRead(list, directKey("carol")))[1]?.unread, 0);
});

test("a conversation opened before any message is listed first, and rows never make it older", () => {
  let list = withActivity(new Map(), "dave");
  list = withRows(list, [{ with: "bob", last_message_at: "2026-11-21T10:00:00.000000Z", new_messages: 1 }]);
  assert.deepEqual(
    ordered(list).map(titleOf),
    ["dave", "bob"],
  );
  list = withActivity(list, "bob", "2026-11-21T12:00:00.000000Z");
  list = withRows(list, [{ with: "bob", last_message_at: "2026-11-21T10:00:00.000000Z", new_messages: 0 }]);
  assert.equal(list.get("direct:bob")?.lastMessageAt, "2026-11-21T12:00:00.000000Z");
});

test("groups and conversations share one list, newest activity first", () => {
  let list = withRows(new Map(), [
    { with: "bob", last_message_at: at(10), new_messages: 1 },
    { with: "carol", last_message_at: at(8), new_messages: 0 },
  ]);
  list = withGroupRows(list, [
    { group: "g1", name: "Lunch crew", last_message_at: at(9), new_messages: 3 },
    { group: "g2", name: "Quiet", last_message_at: at(7), new_messages: 0 },
  ]);
  assert.deepEqual(
    ordered(list).map((c) => [c.kind, titleOf(c), c.unread]),
    [
      ["direct", "bob", 1],
      ["group", "Lunch crew", 3],
      ["direct", "carol", 0],
      ["group", "Quiet", 0],
    ],
  );
  // A push to Quiet moves it to the top; the group's key, never its sender's.
  list = withIncoming(list, inGroup("g2", "bob", at(11)), false);
  assert.deepEqual(ordered(list)[0], { kind: "group", group: "g2", name: "Quiet", lastMessageAt: at(11), unread: 1 });
  assert.equal(list.get(directKey("bob"))?.unread, 1, "bob's own conversation is untouched");
  // Reading the open group keeps it at zero; reading it clears only it.
  list = withIncoming(list, inGroup("g1", "carol", at(12)), true);
  assert.equal(list.get(groupKey("g1"))?.unread, 0);
  assert.equal(withRead(list, groupKey("g2")).get(groupKey("g2"))?.unread, 0);
  assert.equal(withRead(list, groupKey("g2")).get(directKey("bob"))?.unread, 1);
});

test("a push from a group not listed yet changes nothing until GET /groups names it", () => {
  const list = withGroupRows(new Map(), [{ group: "g1", name: "Lunch crew", last_message_at: null, new_messages: 0 }]);
  const stranger = inGroup("g9", "dave", at(9));
  assert.equal(knows(list, stranger), false);
  assert.equal(withIncoming(list, stranger, false), list);
  assert.equal(knows(list, inGroup("g1", "dave", at(9))), true);
  assert.equal(knows(list, message("dave", at(9))), true, "a one-to-one message is always listed by its sender");
  // The rows then bring the group with its count (the pushed message included).
  const next = withGroupRows(list, [{ group: "g9", name: "New", last_message_at: at(9), new_messages: 1 }]);
  assert.equal(next.get(groupKey("g9"))?.unread, 1);
});

test("a group with no message yet is listed first, and rows never make a group older", () => {
  let list = withRows(new Map(), [{ with: "bob", last_message_at: at(10), new_messages: 0 }]);
  list = withGroupRows(list, [{ group: "g1", name: "Fresh", last_message_at: null, new_messages: 0 }]);
  assert.deepEqual(
    ordered(list).map(titleOf),
    ["Fresh", "bob"],
  );
  // My own send (no push comes back to me) dates the group; older rows keep that date.
  list = withGroup(list, "g1", "Fresh", at(12));
  list = withGroupRows(list, [{ group: "g1", name: "Fresh", last_message_at: at(11), new_messages: 0 }]);
  assert.equal(list.get(groupKey("g1"))?.lastMessageAt, at(12));
  // Two lists with the same title stay apart: a login and a group named alike.
  list = withGroup(withActivity(list, "bob"), "g2", "bob");
  assert.equal(ordered(list).filter((c) => titleOf(c) === "bob").length, 2);
});

test("members are typed with commas, spaces or both, each once", () => {
  assert.deepEqual(splitLogins(" bob, carol  dave,,bob\n"), ["bob", "carol", "dave"]);
  assert.deepEqual(splitLogins("  "), []);
});
