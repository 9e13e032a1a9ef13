// The signed-in screen: the conversation list beside the open
// conversation (one at a time on a phone's width), the socket's state,
// and the errors of every call.

import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api, ApiError } from "../api";
import { LiveBus } from "../bus";
import {
  type ConversationList as List,
  ordered,
  withActivity,
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

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
};

export function Messenger({ session, onSignOut }: { session: Session; onSignOut: (why?: string) => void }) {
  const api = useMemo(() => new Api(session.token), [session.token]);
  const live = useMemo(() => new LiveBus(), []);
  const [list, setList] = useState<List>(new Map());
  const [open, setOpen] = useState<string | null>(null);
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [error, setError] = useState<string | null>(null);
  // Read by the socket's listener, which lives longer than one render.
  const reading = useRef(open);
  reading.current = open;

  const onError = useCallback(
    (caught: unknown) => {
      if (caught instanceof ApiError && caught.status === 401) return onSignOut("your session has ended; log in again");
      setError(caught instanceof Error ? caught.message : String(caught));
    },
    [onSignOut],
  );

  const refreshList = useCallback(
    (reading: string | null) =>
      api
        .conversations()
        .then(({ conversations }) =>
          setList((current) => {
            const next = withRows(current, conversations);
            // The open conversation is being read as it comes.
            return reading ? withRead(next, reading) : next;
          }),
        )
        .catch(onError),
    [api, onError],
  );

  // The socket lives as long as the session; each frame updates the list,
  // and the open conversation hears it through the bus. The list is read
  // at once (the socket may take a while) and again on every open, for
  // what came while none was.
  useEffect(() => {
    void refreshList(null);
    // A frame may come twice: count each message once.
    const seen = new Set<string>();
    const unsubscribe = live.subscribe((event) => {
      if (event.type === "opened") void refreshList(reading.current);
      if (event.type === "message" && !seen.has(keyOf(event.message))) {
        seen.add(keyOf(event.message));
        const read = event.message.sender === reading.current;
        setList((current) => withIncoming(current, event.message, read));
      }
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
    setOpen(login);
  }, []);
  const onActivity = useCallback(
    (login: string, timestamp: string) => setList((current) => withActivity(current, login, timestamp)),
    [],
  );
  const onRead = useCallback((login: string) => setList((current) => withRead(current, login)), []);
  const onBack = useCallback(() => setOpen(null), []);

  const signOut = async () => {
    try {
      await api.logOut();
    } catch {
      // The token is forgotten here either way.
    }
    onSignOut();
  };

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
        <ConversationList conversations={ordered(list)} open={open} onOpen={openConversation} />
        {open ? (
          <ConversationView
            key={open}
            api={api}
            me={session.login}
            peer={open}
            live={live}
            onActivity={onActivity}
            onRead={onRead}
            onError={onError}
            onBack={onBack}
          />
        ) : (
          <section class="conversation conversation--none">
            <p class="muted">Choose a conversation, or start one with someone's login.</p>
          </section>
        )}
      </main>
    </div>
  );
}
