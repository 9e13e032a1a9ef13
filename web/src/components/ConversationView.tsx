// One conversation: its history (paged backwards as you scroll up), read
// receipts on what I sent, and the composer. While it is open its new
// messages are read: the history's unread ones are marked read, and each
// pushed one is fetched with fetch_new_messages, which makes it read and
// sends the peer a receipt; after a reconnect the same fetch catches up.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { type Api, type Message } from "../api";
import type { LiveBus } from "../bus";
import {
  addMessages,
  addPage,
  emptyThread,
  hasOlder,
  keyOf,
  markReadThrough,
  type Thread,
  visibleMessages,
} from "../thread";
import { formatTime } from "../time";

/** Messages per page of history, per direction. */
export const PAGE = 30;

interface Props {
  api: Api;
  me: string;
  peer: string;
  live: LiveBus;
  onActivity: (login: string, timestamp: string) => void;
  onRead: (login: string) => void;
  onError: (error: unknown) => void;
  onBack: () => void;
}

export function ConversationView({ api, me, peer, live, onActivity, onRead, onError, onBack }: Props) {
  const [thread, setThread] = useState<Thread>(emptyThread);
  const [loaded, setLoaded] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  // How to place the scroll after the next render: at the bottom, or where
  // it was (from the bottom) when older messages are added above.
  const keepFromBottom = useRef<number | "bottom" | null>("bottom");
  const thisThread = useRef(thread);
  thisThread.current = thread;

  const update = (change: (thread: Thread) => Thread) => {
    const element = scroller.current;
    if (element && keepFromBottom.current === null) {
      const fromBottom = element.scrollHeight - element.scrollTop - element.clientHeight;
      keepFromBottom.current = fromBottom < 80 ? "bottom" : null;
    }
    setThread(change);
  };

  useEffect(() => {
    let gone = false;
    let reading: Promise<void> | null = null;
    let readAgain = false;
    // fetch_new_messages for this peer until nothing is left, one call at a time.
    const readNew = () => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = (async () => {
        do {
          readAgain = false;
          for (let more = true; more && !gone; ) {
            const batch = await api.fetchNew(peer);
            if (gone) return;
            update((t) => addMessages(t, batch.messages));
            more = batch.more;
          }
        } while (readAgain && !gone);
        onRead(peer);
      })()
        .catch(onError)
        .finally(() => (reading = null));
    };

    const unsubscribe = live.subscribe((event) => {
      if (event.type === "opened") return readNew();
      if (event.type === "message" && event.message.sender === peer && event.message.recipient === me) {
        update((t) => addMessages(t, [event.message]));
        readNew();
      }
      if (event.type === "read" && event.by === peer) update((t) => markReadThrough(t, event.through));
    });

    (async () => {
      const [incoming, outgoing] = await Promise.all([
        api.history({ sender: peer, start: -PAGE }),
        api.history({ recipient: peer, sender: me, start: -PAGE }),
      ]);
      if (gone) return;
      keepFromBottom.current = "bottom";
      // Merged into what pushes may have brought meanwhile.
      setThread((t) =>
        addPage(
          addPage(t, "incoming", incoming.messages, incoming.messages.length === PAGE),
          "outgoing",
          outgoing.messages,
          outgoing.messages.length === PAGE,
        ),
      );
      setLoaded(true);
      const newest = incoming.messages.at(-1);
      if (newest && incoming.messages.some((message) => !message.read)) {
        await api.markRead(peer, newest.timestamp);
      }
      if (!gone) onRead(peer);
    })().catch(onError);

    return () => {
      gone = true;
      unsubscribe();
    };
  }, [api, me, peer]);

  const loadOlder = async () => {
    const current = thisThread.current;
    if (loadingOlder || !hasOlder(current)) return;
    setLoadingOlder(true);
    try {
      // Each direction's page ends at its oldest loaded message (inclusive,
      // so asking one more tells whether anything lies before the page).
      const page = async (direction: "incoming" | "outgoing") => {
        const oldest = current.oldest[direction];
        if (!current.more[direction] || !oldest) return null;
        const query = direction === "incoming" ? { sender: peer } : { recipient: peer, sender: me };
        const { messages } = await api.history({ ...query, period_end: oldest, start: -(PAGE + 1) });
        return { direction, messages, full: messages.length === PAGE + 1 };
      };
      const pages = await Promise.all([page("incoming"), page("outgoing")]);
      const element = scroller.current;
      keepFromBottom.current = element ? element.scrollHeight - element.scrollTop : null;
      setThread((t) => pages.reduce((acc, p) => (p ? addPage(acc, p.direction, p.messages, p.full) : acc), t));
    } catch (error) {
      onError(error);
    } finally {
      setLoadingOlder(false);
    }
  };

  useLayoutEffect(() => {
    const element = scroller.current;
    const keep = keepFromBottom.current;
    if (!element || keep === null) return;
    element.scrollTop = keep === "bottom" ? element.scrollHeight : element.scrollHeight - keep;
    keepFromBottom.current = null;
  }, [thread]);

  const messages = visibleMessages(thread, me);
  return (
    <section class="conversation" aria-labelledby="conversation-title">
      <header class="conversation__header">
        <button type="button" class="back" onClick={onBack}>
          <span aria-hidden="true">←</span> Conversations
        </button>
        <h2 id="conversation-title">{peer}</h2>
      </header>
      <div
        class="messages"
        ref={scroller}
        role="log"
        aria-label={`Messages with ${peer}`}
        tabIndex={0}
        onScroll={(event) => {
          if (event.currentTarget.scrollTop < 120 && loaded) void loadOlder();
        }}
      >
        <ol class="messages__list">
          {loaded && hasOlder(thread) && (
            <li class="messages__older">
              <button type="button" onClick={() => void loadOlder()} disabled={loadingOlder}>
                {loadingOlder ? "Loading older messages…" : "Show older messages"}
              </button>
            </li>
          )}
          {loaded && messages.length === 0 && <li class="muted messages__empty">No messages yet. Say hello.</li>}
          {messages.map((message) => (
            <MessageItem key={keyOf(message)} message={message} mine={message.sender === me} />
          ))}
        </ol>
      </div>
      <Composer
        peer={peer}
        onSend={async (text) => {
          const { timestamp } = await api.send(peer, text, crypto.randomUUID());
          keepFromBottom.current = "bottom";
          update((t) => addMessages(t, [{ sender: me, recipient: peer, timestamp, message: text, read: false }]));
          onActivity(peer, timestamp);
        }}
        onError={onError}
      />
    </section>
  );
}

function MessageItem({ message, mine }: { message: Message; mine: boolean }) {
  return (
    <li class={mine ? "message message--mine" : "message"}>
      <p class="message__text">{message.message}</p>
      <p class="message__meta">
        <time dateTime={message.timestamp}>{formatTime(message.timestamp)}</time>
        {mine && (
          <span class="message__receipt" data-testid="receipt">
            {message.read ? "✓✓ Read" : "✓ Sent"}
          </span>
        )}
      </p>
    </li>
  );
}

function Composer({
  peer,
  onSend,
  onError,
}: {
  peer: string;
  onSend: (text: string) => Promise<void>;
  onError: (error: unknown) => void;
}) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const submit = async () => {
    if (!text.trim() || sending) return;
    setSending(true);
    try {
      await onSend(text);
      setText("");
    } catch (error) {
      onError(error);
    } finally {
      setSending(false);
    }
  };
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label for="composer" class="sr-only">
        Message to {peer}
      </label>
      <textarea
        id="composer"
        rows={2}
        placeholder={`Message ${peer}`}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          // Enter sends; Shift+Enter starts a new line.
          if (event.key === "Enter" && !event.shiftKey) {
            event.preventDefault();
            void submit();
          }
        }}
      />
      <button type="submit" class="primary" disabled={sending || !text.trim()}>
        Send
      </button>
    </form>
  );
}
