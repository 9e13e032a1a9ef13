// One group: its history since I joined (paged backwards as you scroll
// up), each message with its sender's login, the members in the header,
// and the composer. While it is open its new messages are read: opening it,
// each pushed message and each reconnect fetch what is new in the group
// with fetch_new_messages {"group"}, which is what counts them read. Its
// read receipts (frames with "group") are not shown.

import { useEffect, useState } from "preact/hooks";
import type { Api, GroupMembers } from "../api";
import type { LiveBus } from "../bus";
import { addMessages, addPage, emptyGroupThread, hasOlder, visibleMessages } from "../thread";
import { Composer } from "./Composer";
import { MessageLog, newMessagesReader, PAGE, useThreadView } from "./MessageLog";

interface Props {
  api: Api;
  me: string;
  group: string;
  name: string;
  live: LiveBus;
  onActivity: (group: string, name: string, timestamp: string) => void;
  onRead: (group: string) => void;
  onError: (error: unknown) => void;
  onBack: () => void;
}

export function GroupView({ api, me, group, name, live, onActivity, onRead, onError, onBack }: Props) {
  const { thread, setThread, update, place, current, loaded, setLoaded, loadingOlder, setLoadingOlder } =
    useThreadView(emptyGroupThread);
  const [members, setMembers] = useState<GroupMembers | null>(null);

  useEffect(() => {
    let gone = false;
    const readNew = newMessagesReader(
      () => api.fetchNew({ group }),
      update,
      () => onRead(group),
      onError,
      () => gone,
    );

    const unsubscribe = live.subscribe((event) => {
      if (event.type === "opened") return readNew();
      if (event.type === "message" && event.message.group === group) {
        update((t) => addMessages(t, [event.message]));
        readNew();
      }
    });

    (async () => {
      const { messages } = await api.history({ group, start: -PAGE });
      if (gone) return;
      place.toBottom();
      // Merged into what pushes may have brought meanwhile.
      setThread((t) => addPage(t, "incoming", messages, messages.length === PAGE));
      setLoaded(true);
      // What is new may reach back past this page: the fetch takes it all.
      readNew();
    })().catch(onError);
    api
      .groupMembers(group)
      .then((reply) => !gone && setMembers(reply))
      .catch(onError);

    return () => {
      gone = true;
      unsubscribe();
    };
  }, [api, me, group]);

  const loadOlder = async () => {
    const oldest = current.current.oldest.incoming;
    if (loadingOlder || !hasOlder(current.current) || !oldest) return;
    setLoadingOlder(true);
    try {
      // The page ends at the oldest loaded message (inclusive, so asking one
      // more tells whether anything lies before the page).
      const { messages } = await api.history({ group, period_end: oldest, start: -(PAGE + 1) });
      place.holdPlace();
      setThread((t) => addPage(t, "incoming", messages, messages.length === PAGE + 1));
    } catch (error) {
      onError(error);
    } finally {
      setLoadingOlder(false);
    }
  };

  const title = members?.name ?? name;
  return (
    <section class="conversation" aria-labelledby="conversation-title">
      <header class="conversation__header">
        <button type="button" class="back" onClick={onBack}>
          <span aria-hidden="true">←</span> Conversations
        </button>
        <h2 id="conversation-title">{title}</h2>
        {members && <Members members={members} />}
      </header>
      <MessageLog
        place={place}
        label={`Messages in ${title}`}
        loaded={loaded}
        older={hasOlder(thread)}
        loadingOlder={loadingOlder}
        onOlder={() => void loadOlder()}
        messages={visibleMessages(thread, me)}
        me={me}
        group
      />
      <Composer
        to={title}
        onSend={async (text) => {
          const { timestamp } = await api.send({ group }, text, crypto.randomUUID());
          place.toBottom();
          update((t) => addMessages(t, [{ sender: me, recipient: me, group, timestamp, message: text, read: true }]));
          onActivity(group, title, timestamp);
        }}
        onError={onError}
      />
    </section>
  );
}

/** How many members, and who (the admin marked), behind a disclosure. */
function Members({ members }: { members: GroupMembers }) {
  const count = members.members.length;
  return (
    <details class="members">
      <summary data-testid="members">
        {count} {count === 1 ? "member" : "members"}
      </summary>
      <ul class="members__list">
        {members.members.map(({ login }) => (
          <li key={login}>
            {login}
            {login === members.admin && <span class="muted"> (admin)</span>}
          </li>
        ))}
      </ul>
    </details>
  );
}
