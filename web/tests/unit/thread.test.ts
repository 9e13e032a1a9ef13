// The history's merge of two directions, each paged back on its own.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message } from "../../src/api.ts";
import {
  addMessages,
  addPage,
  emptyGroupThread,
  emptyThread,
  hasOlder,
  horizon,
  markReadThrough,
  visibleMessages,
} from "../../src/thread.ts";

const at = (second: number) => `2026-11-21T10:00:${String(second).padStart(2, "0")}.000000Z`;
const from = (sender: string, recipient: string, second: number, read = false): Message => ({
  sender,
  recipient,
  timestamp: at(second),
  message: `${sender} at ${second}`,
  read,
});
const texts = (messages: Message[]) => messages.map((message) => message.message);

test("a direction with older messages hides the other's beyond its oldest loaded one", () => {
  // Bob's page reaches back to second 20 and has more; mine reaches 5 and is complete.
  let thread = addPage(emptyThread(), "incoming", [from("bob", "me", 20), from("bob", "me", 30)], true);
  thread = addPage(thread, "outgoing", [from("me", "bob", 5), from("me", "bob", 25)], false);
  assert.equal(horizon(thread), at(20));
  assert.deepEqual(texts(visibleMessages(thread, "me")), ["bob at 20", "me at 25", "bob at 30"]);
  // The next page of Bob's completes the history: my message at 5 shows.
  thread = addPage(thread, "incoming", [from("bob", "me", 10), from("bob", "me", 20)], false);
  assert.equal(horizon(thread), "");
  assert.deepEqual(texts(visibleMessages(thread, "me")), ["me at 5", "bob at 10", "bob at 20", "me at 25", "bob at 30"]);
  assert.equal(hasOlder(thread), false);
});

test("a message pushed twice, or pushed and then fetched, is shown once", () => {
  let thread = addPage(emptyThread(), "incoming", [], false);
  thread = addPage(thread, "outgoing", [], false);
  thread = addMessages(thread, [from("bob", "me", 1)]);
  thread = addMessages(thread, [from("bob", "me", 1), from("bob", "me", 1, true)]);
  const shown = visibleMessages(thread, "me");
  assert.equal(shown.length, 1);
  assert.equal(shown[0]?.read, true, "the later copy's flag");
});

test("a read receipt marks what I sent up to its time, and never moves back", () => {
  let thread = addPage(emptyThread(), "outgoing", [from("me", "bob", 1), from("me", "bob", 2), from("me", "bob", 3)], false);
  thread = addPage(thread, "incoming", [from("bob", "me", 2)], false);
  thread = markReadThrough(markReadThrough(thread, at(2)), at(1));
  const reads = visibleMessages(thread, "me").map((message) => [message.message, message.read]);
  assert.deepEqual(reads, [
    ["me at 1", true],
    ["bob at 2", false],
    ["me at 2", true],
    ["me at 3", false],
  ]);
});

test("a group's history is one list: paging back reaches its start, mine and others' alike", () => {
  const page = [from("bob", "me", 20), from("me", "me", 25), from("carol", "me", 30)];
  let thread = addPage(emptyGroupThread(), "incoming", page, true);
  assert.equal(horizon(thread), at(20));
  assert.equal(hasOlder(thread), true);
  thread = addPage(thread, "incoming", [from("carol", "me", 10), from("bob", "me", 20)], false);
  assert.equal(hasOlder(thread), false);
  assert.deepEqual(texts(visibleMessages(thread, "me")), ["carol at 10", "bob at 20", "me at 25", "carol at 30"]);
});
