// The messenger API as the client uses it: JSON in and out, the bearer
// token on every call but register and login, and every failure turned
// into an ApiError carrying the API's own `error` text.

/** The page's own origin, unless the build names another API (`VITE_API_URL`,
 * e.g. a deployed stack while developing with `npm run dev`). */
const BASE = (import.meta.env.VITE_API_URL ?? "").replace(/\/$/, "");

export interface Message {
  sender: string;
  recipient: string;
  timestamp: string;
  message: string;
  /** Present on history (fetch_messages): read by its recipient. */
  read?: boolean;
}

export interface ConversationRow {
  with: string;
  last_message_at: string;
  new_messages: number;
}

export interface Ticket {
  ticket: string;
  expires_at: string;
  url: string;
}

/** What fetch_messages accepts (the subset this client sends). */
export interface HistoryQuery {
  sender?: string;
  recipient?: string;
  start?: number;
  period_end?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Method = "GET" | "POST" | "PUT" | "DELETE";

async function call<T>(method: Method, path: string, token: string | null, body?: object, key?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body) headers["Content-Type"] = "application/json";
  if (key) headers["Idempotency-Key"] = key;
  let response: Response;
  try {
    response = await fetch(BASE + path, { method, headers, body: body ? JSON.stringify(body) : null });
  } catch {
    throw new ApiError(0, "cannot reach the server; check the connection and try again");
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: an error page from something in front of the API.
  }
  if (!response.ok) throw new ApiError(response.status, errorText(data, response.status));
  return data as T;
}

/** The API's `error` field, word for word; a generic line if the reply has none. */
function errorText(data: unknown, status: number): string {
  if (data && typeof data === "object" && "error" in data && typeof data.error === "string") return data.error;
  return `the server answered ${status}`;
}

export const register = (login: string, password: string) =>
  call<{ token: string; login: string }>("POST", "/register", null, { login, password });

export const logIn = (login: string, password: string) =>
  call<{ token: string; expires_at: string }>("POST", "/login", null, { login, password });

/** The calls a signed-in user makes, with their token. */
export class Api {
  constructor(readonly token: string) {}

  logOut = () => call<unknown>("POST", "/logout", this.token);

  conversations = () => call<{ conversations: ConversationRow[] }>("GET", "/conversations", this.token);

  history = (query: HistoryQuery) =>
    call<{ messages: Message[]; next: string | null }>("PUT", "/fetch_messages", this.token, query);

  fetchNew = (sender: string) =>
    call<{ messages: Message[]; more: boolean }>("PUT", "/fetch_new_messages", this.token, { sender });

  markRead = (sender: string, through: string) =>
    call<{ marked: number }>("POST", "/mark_read", this.token, { sender, through });

  /** A retry of the same send (same key) cannot store it twice. */
  send = (recipient: string, message: string, key: string) =>
    call<{ timestamp: string }>("POST", "/send_message", this.token, { recipient, message }, key);

  ticket = () => call<Ticket>("POST", "/realtime_ticket", this.token);
}
