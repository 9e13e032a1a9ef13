// What a conversation and a group share: the thread on screen and the
// scrolling log of it (older messages loaded as you scroll up, the place
// kept when they are added above, the bottom followed while you are at it),
// one message in it, and reading what is new.

import type { RefObject } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Message } from "../api";
import { addMessages, keyOf, type Thread } from "../thread";
import { formatTime } from "../time";

/** Messages per page of history (per direction in a conversation). */
export const PAGE = 30;

export interface ScrollPlace {
  scroller: RefObject<HTMLDivElement | null>;
  /** Before the first page or my own message: show the newest. */
  toBottom(): void;
  /** Before older messages are added above: keep what the reader sees in place. */
  holdPlace(): void;
  /** Before messages arrive at the end: follow them only if the reader is at the bottom. */
  follow(): void;
}

/** Places the scroll after each render of `thread` as the last call asked. */
export function useScrollPlace(thread: Thread): ScrollPlace {
  const scroller = useRef<HTMLDivElement>(null);
  // At the bottom, or this far from it; null leaves the scroll alone.
  const keepFromBottom = useRef<number | "bottom" | null>("bottom");

  useLayoutEffect(() => {
    const element = scroller.current;
    const keep = keepFromBottom.current;
    if (!element || keep === null) return;
    element.scrollTop = keep === "bottom" ? element.scrollHeight : element.scrollHeight - keep;
    keepFromBottom.current = null;
  }, [thread]);

  return {
    scroller,
    toBottom: () => (keepFromBottom.current = "bottom"),
    holdPlace: () => {
      const element = scroller.current;
      keepFromBottom.current = element ? element.scrollHeight - element.scrollTop : null;
    },
    follow: () => {
      const element = scroller.current;
      if (element && keepFromBottom.current === null) {
        const fromBottom = element.scrollHeight - element.scrollTop - element.clientHeight;
        keepFromBottom.current = fromBottom < 80 ? "bottom" : null;
      }
    },
  };
}

/** A view's thread, with where its scroll goes and whether its pages are loading. */
export function useThreadView(empty: () => Thread) {
  const [thread, setThread] = useState<Thread>(empty);
  const [loaded, setLoaded] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const place = useScrollPlace(thread);
  // The thread as it is now, for handlers made on an earlier render.
  const current = useRef(thread);
  current.current = thread;
  /** A change at the end of the thread, followed if the reader is at the bottom. */
  const update = (change: (thread: Thread) => Thread) => {
    place.follow();
    setThread(change);
  };
  return { thread, setThread, update, place, current, loaded, setLoaded, loadingOlder, setLoadingOlder };
}

/**
 * Reads what is new with `fetchNew` (fetch_new_messages, which makes it
 * read) until nothing is left, one call at a time: a call while one runs
 * makes it go round once more. Each batch goes to `take`; `done` follows.
 */
export function newMessagesReader(
  fetchNew: () => Promise<{ messages: Message[]; more: boolean }>,
  take: (change: (thread: Thread) => Thread) => void,
  done: () => void,
  onError: (error: unknown) => void,
  gone: () => boolean,
): () => void {
  let reading: Promise<void> | null = null;
  let readAgain = false;
  return () => {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = (async () => {
      do {
        readAgain = false;
        for (let more = true; more && !gone(); ) {
          const batch = await fetchNew();
          if (gone()) return;
          take((t) => addMessages(t, batch.messages));
          more = batch.more;
        }
      } while (readAgain && !gone());
      done();
    })()
      .catch(onError)
      .finally(() => (reading = null));
  };
}

interface LogProps {
  place: ScrollPlace;
  /** The log's accessible name. */
  label: string;
  loaded: boolean;
  older: boolean;
  loadingOlder: boolean;
  onOlder: () => void;
  /** Oldest first. */
  messages: Message[];
  me: string;
  /** A group's log names each sender and has no receipts (the API has none for groups yet). */
  group?: boolean;
}

export function MessageLog(props: LogProps) {
  const { place, label, loaded, older, loadingOlder, onOlder, messages, me, group = false } = props;
  return (
    <div
      class="messages"
      ref={place.scroller}
      role="log"
      aria-label={label}
      tabIndex={0}
      onScroll={(event) => {
        if (event.currentTarget.scrollTop < 120 && loaded) onOlder();
      }}
    >
      <ol class="messages__list">
        {loaded && older && (
          <li class="messages__older">
            <button type="button" onClick={onOlder} disabled={loadingOlder}>
              {loadingOlder ? "Loading older messages…" : "Show older messages"}
            </button>
          </li>
        )}
        {loaded && messages.length === 0 && <li class="muted messages__empty">No messages yet. Say hello.</li>}
        {messages.map((message) => (
          <MessageItem
            key={keyOf(message)}
            message={message}
            mine={message.sender === me}
            showSender={group}
            receipt={!group}
          />
        ))}
      </ol>
    </div>
  );
}

interface ItemProps {
  message: Message;
  mine: boolean;
  /** Who wrote it, on others' messages. */
  showSender: boolean;
  /** "✓ Sent" or "✓✓ Read" on mine. */
  receipt: boolean;
}

function MessageItem({ message, mine, showSender, receipt }: ItemProps) {
  return (
    <li class={mine ? "message message--mine" : "message"}>
      {showSender && !mine && (
        <p class="message__sender" data-testid="sender">
          {message.sender}
        </p>
      )}
      <p class="message__text">{message.message}</p>
      <p class="message__meta">
        <time dateTime={message.timestamp}>{formatTime(message.timestamp)}</time>
        {receipt && mine && (
          <span class="message__receipt" data-testid="receipt">
            {message.read ? "✓✓ Read" : "✓ Sent"}
          </span>
        )}
      </p>
    </li>
  );
}
