// One conversation's history as loaded so far. The two directions live in
// two mailboxes (what the peer sent is in mine, what I sent is in theirs),
// so each is read and paged back on its own; the view merges them by time,
// down to the point where both are complete. A group's is one list.

import type { Message } from "./api";

export type Direction = "incoming" | "outgoing";

export interface Thread {
  /** By `keyOf`: a message pushed twice, or pushed and fetched, is one. */
  messages: Map<string, Message>;
  /** Per direction: the oldest timestamp loaded, and whether older ones remain. */
  oldest: Record<Direction, string | null>;
  more: Record<Direction, boolean>;
  /** The peer's read receipt: everything I sent up to this is read. */
  readThrough: string | null;
}

/** Messages are told apart by (sender, timestamp). */
export const keyOf = (message: Message) => `${message.sender}\n${message.timestamp}`;

export const emptyThread = (): Thread => ({
  messages: new Map(),
  oldest: { incoming: null, outgoing: null },
  more: { incoming: true, outgoing: true },
  readThrough: null,
});

/** A group's history is one list (every member's messages, mine included,
 * in the group's own partition): it pages as the one direction, "incoming",
 * with nothing on the other side to wait for. */
export const emptyGroupThread = (): Thread => ({ ...emptyThread(), more: { incoming: true, outgoing: false } });

/** Adds messages, keeping what is already known (a later copy may carry `read`). */
export function addMessages(thread: Thread, messages: Message[]): Thread {
  const next = new Map(thread.messages);
  for (const message of messages) next.set(keyOf(message), { ...next.get(keyOf(message)), ...message });
  return { ...thread, messages: next };
}

/** Adds one page of a direction, read back from its oldest end: `full` says
 * the page was as long as asked, so older messages may remain. */
export function addPage(thread: Thread, direction: Direction, page: Message[], full: boolean): Thread {
  const added = addMessages(thread, page);
  const first = page[0]?.timestamp ?? null;
  const oldest = first && (!thread.oldest[direction] || first < thread.oldest[direction]) ? first : thread.oldest[direction];
  return { ...added, oldest: { ...thread.oldest, [direction]: oldest }, more: { ...thread.more, [direction]: full } };
}

/** The peer read what I sent up to `through`. */
export function markReadThrough(thread: Thread, through: string): Thread {
  return thread.readThrough && thread.readThrough >= through ? thread : { ...thread, readThrough: through };
}

/** Where the merged history is complete: past the oldest loaded message of
 * each direction that has older ones, the other direction may still hide some. */
export function horizon(thread: Thread): string {
  let bound = "";
  for (const direction of ["incoming", "outgoing"] as const) {
    const oldest = thread.oldest[direction];
    if (thread.more[direction] && oldest && oldest > bound) bound = oldest;
  }
  return bound;
}

/** What to show, oldest first: every loaded message within the horizon,
 * mine with their receipt applied. (RFC 3339 UTC timestamps with
 * microseconds sort as text.) */
export function visibleMessages(thread: Thread, me: string): Message[] {
  const bound = horizon(thread);
  return [...thread.messages.values()]
    .filter((message) => message.timestamp >= bound)
    .map((message) =>
      message.sender === me && thread.readThrough && message.timestamp <= thread.readThrough
        ? { ...message, read: true }
        : message,
    )
    .sort((a, b) => (a.timestamp === b.timestamp ? a.sender.localeCompare(b.sender) : a.timestamp < b.timestamp ? -1 : 1));
}

/** Whether older messages can still be loaded. */
export const hasOlder = (thread: Thread) => thread.more.incoming || thread.more.outgoing;
