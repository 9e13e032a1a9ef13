// The conversation list: the API's rows (one per sender who ever wrote to
// me, with how many of their messages are still new), plus the people I
// wrote to in this session who have not answered yet, and my groups (GET
// /groups, with the same counts). Items carry a `kind` and are found by
// their key, so a login and a group id never meet.

import type { ConversationRow, GroupRow, Message } from "./api";

export interface DirectConversation {
  kind: "direct";
  with: string;
  /** Empty when nothing has been sent yet (a conversation just opened). */
  lastMessageAt: string;
  unread: number;
}

export interface GroupConversation {
  kind: "group";
  group: string;
  name: string;
  /** Empty before the group's first message. */
  lastMessageAt: string;
  unread: number;
}

export type Conversation = DirectConversation | GroupConversation;

export type ConversationList = Map<string, Conversation>;

export const directKey = (login: string) => `direct:${login}`;
export const groupKey = (group: string) => `group:${group}`;
export const keyOfConversation = (c: Conversation) => (c.kind === "direct" ? directKey(c.with) : groupKey(c.group));
/** What the list shows for it. */
export const titleOf = (c: Conversation) => (c.kind === "direct" ? c.with : c.name);
/** Where a message belongs: its group, or the conversation with its sender. */
export const keyOfMessage = (message: Message) => (message.group ? groupKey(message.group) : directKey(message.sender));

const direct = (login: string, lastMessageAt: string, unread: number): DirectConversation => ({
  kind: "direct",
  with: login,
  lastMessageAt,
  unread,
});

const later = (a: string | undefined, b: string) => (a && a > b ? a : b);

/** The API's rows win for the people they name; the others stay. */
export function withRows(list: ConversationList, rows: ConversationRow[]): ConversationList {
  const next = new Map(list);
  for (const row of rows) {
    const known = next.get(directKey(row.with));
    next.set(directKey(row.with), direct(row.with, later(known?.lastMessageAt, row.last_message_at), row.new_messages));
  }
  return next;
}

/** GET /groups' rows win for the groups they name (their counts, names and
 * times, never older than what this session saw); the others stay. */
export function withGroupRows(list: ConversationList, rows: GroupRow[]): ConversationList {
  const next = new Map(list);
  for (const row of rows) {
    const known = next.get(groupKey(row.group));
    next.set(groupKey(row.group), {
      kind: "group",
      group: row.group,
      name: row.name,
      lastMessageAt: later(known?.lastMessageAt, row.last_message_at ?? ""),
      unread: row.new_messages,
    });
  }
  return next;
}

/** Whether a pushed message belongs to something listed; a group message of
 * a group not listed yet (I was just added) needs GET /groups for its name. */
export const knows = (list: ConversationList, message: Message) => !message.group || list.has(keyOfMessage(message));

/** A message pushed to me: one more unread, unless I am reading where it
 * belongs. A group not listed yet is left to GET /groups (see `knows`). */
export function withIncoming(list: ConversationList, message: Message, reading: boolean): ConversationList {
  const key = keyOfMessage(message);
  const known = list.get(key);
  if (message.group && !known) return list;
  const unread = reading ? 0 : (known?.unread ?? 0) + 1;
  const last = later(known?.lastMessageAt, message.timestamp);
  return new Map(list).set(key, known ? { ...known, lastMessageAt: last, unread } : direct(message.sender, last, unread));
}

/** A conversation opened or written to: listed, with its latest time. */
export function withActivity(list: ConversationList, login: string, timestamp = ""): ConversationList {
  const known = list.get(directKey(login));
  return new Map(list).set(directKey(login), direct(login, later(known?.lastMessageAt, timestamp), known?.unread ?? 0));
}

/** A group created, or written to by me: listed, with its latest time. */
export function withGroup(list: ConversationList, group: string, name: string, timestamp = ""): ConversationList {
  const known = list.get(groupKey(group));
  return new Map(list).set(groupKey(group), {
    kind: "group",
    group,
    name: known?.kind === "group" ? known.name : name,
    lastMessageAt: later(known?.lastMessageAt, timestamp),
    unread: known?.unread ?? 0,
  });
}

/** Everything in the conversation or group under `key` is read. */
export function withRead(list: ConversationList, key: string): ConversationList {
  const known = list.get(key);
  return known && known.unread ? new Map(list).set(key, { ...known, unread: 0 }) : list;
}

/** Newest activity first, conversations and groups together; just-opened
 * ones (no message yet) on top. */
export function ordered(list: ConversationList): Conversation[] {
  const rank = (c: Conversation) => c.lastMessageAt || "~";
  return [...list.values()].sort((a, b) =>
    rank(a) === rank(b) ? titleOf(a).localeCompare(titleOf(b)) : rank(a) < rank(b) ? 1 : -1,
  );
}

/** The members typed into the new-group form: logins separated by commas,
 * spaces or both, each once, in the order typed. The API judges each. */
export const splitLogins = (text: string) => [...new Set(text.split(/[\s,]+/).filter(Boolean))];
