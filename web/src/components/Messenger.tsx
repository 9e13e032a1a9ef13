// The signed-in screen: the list of conversations and groups beside the
// open one (one at a time on a phone's width), the socket's state, and the
// errors of every call.

import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api, ApiError } from "../api";
import { LiveBus } from "../bus";
import {
  type Conversation,
  directKey,
  groupKey,
  keyOfMessage,
  knows,
  type ConversationList as List,
  ordered,
  withActivity,
  withGroup,
  withGroupRows,
  withIncoming,
  withRead,
  withRows,
} from "../conversations";
import { type LiveStatus, stayLive } from "../live";
import type { Session } from "../session";
import { keyOf } from "../thread";
import { ConversationList } from "./ConversationList";
import { ConversationView } from "./ConversationView";
import { ErrorBanner } from "./ErrorBanner";
import { GroupView } from "./GroupView";

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
};

export function Messenger({ session, onSignOut }: { session: Session; onSignOut: (why?: string) => void }) {
  const api = useMemo(() => new Api(session.token), [session.token]);
  const live = useMemo(() => new LiveBus(), []);
  const [list, setList] = useState<List>(new Map());
  /** The open conversation's or group's key (directKey, groupKey). */
  const [open, setOpen] = useState<string | null>(null);
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [error, setError] = useState<string | null>(null);
  // Read by the socket's listener, which lives longer than one render.
  const reading = useRef(open);
  reading.current = open;
  const listed = useRef(list);
  listed.current = list;

  const onError = useCallback(
    (caught: unknown) => {
      if (caught instanceof ApiError && caught.status === 401) return onSignOut("your session has ended; log in again");
      setError(caught instanceof Error ? caught.message : String(caught));
    },
    [onSignOut],
  );

  // The open conversation or group is being read as it comes.
  const refreshConversations = useCallback(
    (reading: string | null) =>
      api
        .conversations()
        .then(({ conversations }) => setList((current) => withOpenRead(withRows(current, conversations), reading)))
        .catch(onError),
    [api, onError],
  );
  const refreshGroups = useCallback(
    (reading: string | null) =>
      api
        .groups()
        .then(({ groups }) => setList((current) => withOpenRead(withGroupRows(current, groups), reading)))
        .catch(onError),
    [api, onError],
  );

  // The socket lives as long as the session; each frame updates the list,
  // and the open conversation hears it through the bus. The list is read
  // at once (the socket may take a while) and again on every open, for
  // what came while none was.
  useEffect(() => {
    void refreshConversations(null);
    void refreshGroups(null);
    // A frame may come twice: count each message once.
    const seen = new Set<string>();
    const unsubscribe = live.subscribe((event) => {
      if (event.type === "opened") {
        void refreshConversations(reading.current);
        void refreshGroups(reading.current);
      }
      if (event.type !== "message") return;
      const message = event.message;
      const seenKey = `${keyOfMessage(message)}\n${keyOf(message)}`;
      if (seen.has(seenKey)) return;
      seen.add(seenKey);
      // A group I was just added to: its name and count come from GET /groups.
      if (!knows(listed.current, message)) return void refreshGroups(reading.current);
      const read = keyOfMessage(message) === reading.current;
      setList((current) => withIncoming(current, message, read));
    });
    const stop = stayLive(api, {
      onFrame: (frame) => live.publish(frame),
      onStatus: setStatus,
      onOpen: () => live.publish({ type: "opened" }),
      onUnauthorized: () => onSignOut("your session has ended; log in again"),
    });
    return () => {
      stop();
      unsubscribe();
    };
  }, [api, live]);

  const openConversation = useCallback((login: string) => {
    setError(null);
    setList((current) => withActivity(current, login));
    setOpen(directKey(login));
  }, []);
  const openGroup = useCallback((group: string, name: string) => {
    setError(null);
    setList((current) => withGroup(current, group, name));
    setOpen(groupKey(group));
  }, []);
  const onOpen = useCallback(
    (c: Conversation) => (c.kind === "direct" ? openConversation(c.with) : openGroup(c.group, c.name)),
    [openConversation, openGroup],
  );
  const createGroup = useCallback(
    async (name: string, members: string[]) => {
      const created = await api.createGroup(name, members);
      openGroup(created.group, created.name);
    },
    [api, openGroup],
  );
  const onActivity = useCallback(
    (login: string, timestamp: string) => setList((current) => withActivity(current, login, timestamp)),
    [],
  );
  const onGroupActivity = useCallback(
    (group: string, name: string, timestamp: string) =>
      setList((current) => withGroup(current, group, name, timestamp)),
    [],
  );
  const onRead = useCallback((login: string) => setList((current) => withRead(current, directKey(login))), []);
  const onGroupRead = useCallback((group: string) => setList((current) => withRead(current, groupKey(group))), []);
  const onBack = useCallback(() => setOpen(null), []);

  const signOut = async () => {
    try {
      await api.logOut();
    } catch {
      // The token is forgotten here either way.
    }
    onSignOut();
  };

  const opened = open ? list.get(open) : undefined;
  return (
    <div class={open ? "app app--conversation-open" : "app"}>
      <header class="topbar">
        <span class="brand">messenger</span>
        <span class={`status status--${status}`} role="status" data-testid="live-status">
          {STATUS_TEXT[status]}
        </span>
        <span class="topbar__spacer" />
        <a href="/docs" class="topbar__link">
          API reference
        </a>
        <span class="topbar__me">
          Signed in as <strong data-testid="me">{session.login}</strong>
        </span>
        <button type="button" onClick={() => void signOut()}>
          Log out
        </button>
      </header>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <main class="layout">
        <ConversationList
          conversations={ordered(list)}
          open={open}
          onOpen={onOpen}
          onStart={openConversation}
          onCreateGroup={createGroup}
        />
        {opened?.kind === "direct" ? (
          <ConversationView
            key={open}
            api={api}
            me={session.login}
            peer={opened.with}
            live={live}
            onActivity={onActivity}
            onRead={onRead}
            onError={onError}
            onBack={onBack}
          />
        ) : opened?.kind === "group" ? (
          <GroupView
            key={open}
            api={api}
            me={session.login}
            group={opened.group}
            name={opened.name}
            live={live}
            onActivity={onGroupActivity}
            onRead={onGroupRead}
            onError={onError}
            onBack={onBack}
          />
        ) : (
          <section class="conversation conversation--none">
            <p class="muted">Choose a conversation or a group, start one with someone's login, or make a group.</p>
          </section>
        )}
      </main>
    </div>
  );
}

const withOpenRead = (list: List, reading: string | null) => (reading ? withRead(list, reading) : list);
