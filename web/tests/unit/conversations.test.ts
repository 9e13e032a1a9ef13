// The conversation list: the API's rows, pushes and local activity.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message } from "../../src/api.ts";
import { ordered, withActivity, withIncoming, withRead, withRows } from "../../src/conversations.ts";

const message = (sender: string, timestamp: string): Message => ({ sender, recipient: "me", timestamp, message: "hi" });

test("rows, pushes and reads keep each conversation's unread count", () => {
  let list = withRows(new Map(), [
    { with: "bob", last_message_at: "2026-11-21T10:00:00.000000Z", new_messages: 2 },
    { with: "carol", last_message_at: "2026-11-21T09:00:00.000000Z", new_messages: 0 },
  ]);
  list = withIncoming(list, message("carol", "2026-11-21T11:00:00.000000Z"), false);
  list = withIncoming(list, message("bob", "2026-11-21T11:30:00.000000Z"), true);
  assert.deepEqual(
    ordered(list).map((c) => [c.with, c.unread]),
    [
      ["bob", 0],
      ["carol", 1],
    ],
  );
  assert.equal(ordered(withRead(list, "carol"))[1]?.unread, 0);
});

test("a conversation opened before any message is listed first, and rows never make it older", () => {
  let list = withActivity(new Map(), "dave");
  list = withRows(list, [{ with: "bob", last_message_at: "2026-11-21T10:00:00.000000Z", new_messages: 1 }]);
  assert.deepEqual(
    ordered(list).map((c) => c.with),
    ["dave", "bob"],
  );
  list = withActivity(list, "bob", "2026-11-21T12:00:00.000000Z");
  list = withRows(list, [{ with: "bob", last_message_at: "2026-11-21T10:00:00.000000Z", new_messages: 0 }]);
  assert.equal(list.get("direct:bob")?.lastMessageAt, "2026-11-21T12:00:00.000000Z");
});
