// The conversation list: the API's rows (one per sender who ever wrote to
// me, with how many of their messages are still new), plus the people I
// wrote to in this session who have not answered yet. Items carry a `kind`
// so that group conversations can join the list as a kind of their own.

import type { ConversationRow, Message } from "./api";

export interface DirectConversation {
  kind: "direct";
  with: string;
  /** Empty when nothing has been sent yet (a conversation just opened). */
  lastMessageAt: string;
  unread: number;
}

export type Conversation = DirectConversation;

export type ConversationList = Map<string, Conversation>;

export const directKey = (login: string) => `direct:${login}`;

const direct = (login: string, lastMessageAt: string, unread: number): DirectConversation => ({
  kind: "direct",
  with: login,
  lastMessageAt,
  unread,
});

/** The API's rows win for the people they name; the others stay. */
export function withRows(list: ConversationList, rows: ConversationRow[]): ConversationList {
  const next = new Map(list);
  for (const row of rows) {
    const known = next.get(directKey(row.with));
    const last = known && known.lastMessageAt > row.last_message_at ? known.lastMessageAt : row.last_message_at;
    next.set(directKey(row.with), direct(row.with, last, row.new_messages));
  }
  return next;
}

/** A message pushed to me: one more unread, unless I am reading that conversation. */
export function withIncoming(list: ConversationList, message: Message, reading: boolean): ConversationList {
  const known = list.get(directKey(message.sender));
  const unread = reading ? 0 : (known?.unread ?? 0) + 1;
  const last = known && known.lastMessageAt > message.timestamp ? known.lastMessageAt : message.timestamp;
  return new Map(list).set(directKey(message.sender), direct(message.sender, last, unread));
}

/** A conversation opened or written to: listed, with its latest time. */
export function withActivity(list: ConversationList, login: string, timestamp = ""): ConversationList {
  const known = list.get(directKey(login));
  const last = known && known.lastMessageAt > timestamp ? known.lastMessageAt : timestamp;
  return new Map(list).set(directKey(login), direct(login, last, known?.unread ?? 0));
}

export function withRead(list: ConversationList, login: string): ConversationList {
  const known = list.get(directKey(login));
  return known && known.unread ? new Map(list).set(directKey(login), { ...known, unread: 0 }) : list;
}

/** Newest activity first; just-opened ones (no message yet) on top. */
export function ordered(list: ConversationList): Conversation[] {
  const rank = (c: Conversation) => c.lastMessageAt || "~";
  return [...list.values()].sort((a, b) => (rank(a) === rank(b) ? a.with.localeCompare(b.with) : rank(a) < rank(b) ? 1 : -1));
}
