// One conversation: its history (paged backwards as you scroll up), read
// receipts on what I sent, and the composer. While it is open its new
// messages are read: the history's unread ones are marked read, and each
// pushed one is fetched with fetch_new_messages, which makes it read and
// sends the peer a receipt; after a reconnect the same fetch catches up.

import { useEffect } from "preact/hooks";
import type { Api } from "../api";
import type { LiveBus } from "../bus";
import { addMessages, addPage, emptyThread, hasOlder, markReadThrough, visibleMessages } from "../thread";
import { Composer } from "./Composer";
import { MessageLog, newMessagesReader, PAGE, useThreadView } from "./MessageLog";

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
  const { thread, setThread, update, place, current, loaded, setLoaded, loadingOlder, setLoadingOlder } =
    useThreadView(emptyThread);

  useEffect(() => {
    let gone = false;
    const readNew = newMessagesReader(
      () => api.fetchNew({ sender: peer }),
      update,
      () => onRead(peer),
      onError,
      () => gone,
    );

    const unsubscribe = live.subscribe((event) => {
      if (event.type === "opened") return readNew();
      // A group message names me as its recipient too: only one-to-one ones belong here.
      const fromPeer = event.type === "message" && event.message.sender === peer && event.message.recipient === me;
      if (fromPeer && !event.message.group) {
        update((t) => addMessages(t, [event.message]));
        readNew();
      }
      if (event.type === "read" && event.by === peer && !event.group) {
        update((t) => markReadThrough(t, event.through));
      }
    });

    (async () => {
      const [incoming, outgoing] = await Promise.all([
        api.history({ sender: peer, start: -PAGE }),
        api.history({ recipient: peer, sender: me, start: -PAGE }),
      ]);
      if (gone) return;
      place.toBottom();
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
    const loading = current.current;
    if (loadingOlder || !hasOlder(loading)) return;
    setLoadingOlder(true);
    try {
      // Each direction's page ends at its oldest loaded message (inclusive,
      // so asking one more tells whether anything lies before the page).
      const page = async (direction: "incoming" | "outgoing") => {
        const oldest = loading.oldest[direction];
        if (!loading.more[direction] || !oldest) return null;
        const query = direction === "incoming" ? { sender: peer } : { recipient: peer, sender: me };
        const { messages } = await api.history({ ...query, period_end: oldest, start: -(PAGE + 1) });
        return { direction, messages, full: messages.length === PAGE + 1 };
      };
      const pages = await Promise.all([page("incoming"), page("outgoing")]);
      place.holdPlace();
      setThread((t) => pages.reduce((acc, p) => (p ? addPage(acc, p.direction, p.messages, p.full) : acc), t));
    } catch (error) {
      onError(error);
    } finally {
      setLoadingOlder(false);
    }
  };

  return (
    <section class="conversation" aria-labelledby="conversation-title">
      <header class="conversation__header">
        <button type="button" class="back" onClick={onBack}>
          <span aria-hidden="true">←</span> Conversations
        </button>
        <h2 id="conversation-title">{peer}</h2>
      </header>
      <MessageLog
        place={place}
        label={`Messages with ${peer}`}
        loaded={loaded}
        older={hasOlder(thread)}
        loadingOlder={loadingOlder}
        onOlder={() => void loadOlder()}
        messages={visibleMessages(thread, me)}
        me={me}
      />
      <Composer
        to={peer}
        onSend={async (text) => {
          const { timestamp } = await api.send({ recipient: peer }, text, crypto.randomUUID());
          place.toBottom();
          update((t) => addMessages(t, [{ sender: me, recipient: peer, timestamp, message: text, read: false }]));
          onActivity(peer, timestamp);
        }}
        onError={onError}
      />
    </section>
  );
}
