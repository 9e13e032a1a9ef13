// The push socket: a ticket from POST /realtime_ticket, the socket opened
// with it in the URL (browsers cannot set headers on a WebSocket), a ping
// that keeps API Gateway from closing an idle socket, and a reconnect with
// back-off whenever it closes. Push is a notification, not the record: the
// caller catches up (onOpen) every time a socket opens.

import { type Api, ApiError, type Message } from "./api";

export type Frame =
  | { type: "message"; message: Message }
  // With `group`, a member read what the holder sent that group.
  | { type: "read"; by: string; group?: string; through: string }
  | { type: "pong" }
  | { type: "error"; error: string };

export type LiveStatus = "connecting" | "live" | "reconnecting";

export interface LiveHandlers {
  onFrame(frame: Frame): void;
  onStatus(status: LiveStatus): void;
  /** After every open, first or not: fetch what came while no socket was open. */
  onOpen(): void;
  /** The token was refused: the session is over. */
  onUnauthorized(): void;
}

/** API Gateway closes a socket idle for 10 minutes. */
const PING_EVERY_MS = 4 * 60 * 1000;
const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 30_000;

/** Keeps a socket open until the returned function is called. */
export function stayLive(api: Api, handlers: LiveHandlers): () => void {
  let stopped = false;
  let socket: WebSocket | null = null;
  let retryMs = FIRST_RETRY_MS;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const retry = () => {
    if (stopped) return;
    handlers.onStatus("reconnecting");
    retryTimer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, LONGEST_RETRY_MS);
  };

  async function connect() {
    handlers.onStatus("connecting");
    let url: string;
    try {
      const { ticket, url: base } = await api.ticket();
      url = `${base}?ticket=${encodeURIComponent(ticket)}`;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return handlers.onUnauthorized();
      return retry();
    }
    if (stopped) return;
    const open = new WebSocket(url);
    socket = open;
    let ping: ReturnType<typeof setInterval> | undefined;
    open.onopen = () => {
      retryMs = FIRST_RETRY_MS;
      ping = setInterval(() => open.send(JSON.stringify({ type: "ping" })), PING_EVERY_MS);
      handlers.onStatus("live");
      handlers.onOpen();
    };
    open.onmessage = (event) => {
      try {
        handlers.onFrame(JSON.parse(String(event.data)) as Frame);
      } catch {
        // Not JSON: nothing this client understands.
      }
    };
    open.onclose = () => {
      clearInterval(ping);
      if (socket === open) socket = null;
      retry();
    };
  }

  void connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    socket?.close();
  };
}
