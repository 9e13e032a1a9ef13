// The messenger API as the client uses it: JSON in and out, the bearer
// token on every call but register and login, and every failure turned
// into an ApiError carrying the API's own `error` text.

/** The page's own origin, unless the build names another API (`VITE_API_URL`,
 * e.g. a deployed stack while developing with `npm run dev`). */
const BASE = (import.meta.env.VITE_API_URL ?? "").replace(/\/$/, "");

export interface Message {
  sender: string;
  /** For a group message, the member it is shown to. */
  recipient: string;
  timestamp: string;
  message: string;
  /** Present on history (fetch_messages): read by its recipient (in a
   * group, by the caller: their own messages and those fetched as new). */
  read?: boolean;
  /** The group of a group message; absent for a one-to-one message. */
  group?: string;
}

export interface ConversationRow {
  with: string;
  last_message_at: string;
  new_messages: number;
}

export interface GroupRow {
  group: string;
  name: string;
  /** Null before the group's first message. */
  last_message_at: string | null;
  new_messages: number;
}

export interface CreatedGroup {
  group: string;
  name: string;
  admin: string;
  /** Logins, the creator's included. */
  members: string[];
}

export interface GroupMembers {
  group: string;
  name: string;
  admin: string;
  members: { login: string; joined_at: string }[];
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
  group?: string;
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

  /** What is new from one sender (one-to-one messages only), or in one group. */
  fetchNew = (from: { sender: string } | { group: string }) =>
    call<{ messages: Message[]; more: boolean }>("PUT", "/fetch_new_messages", this.token, from);

  markRead = (sender: string, through: string) =>
    call<{ marked: number }>("POST", "/mark_read", this.token, { sender, through });

  /** A retry of the same send (same key) cannot store it twice. */
  send = (to: { recipient: string } | { group: string }, message: string, key: string) =>
    call<{ timestamp: string }>("POST", "/send_message", this.token, { ...to, message }, key);

  groups = () => call<{ groups: GroupRow[] }>("GET", "/groups", this.token);

  createGroup = (name: string, members: string[]) =>
    call<CreatedGroup>("POST", "/create_group", this.token, { name, members });

  groupMembers = (group: string) => call<GroupMembers>("PUT", "/group_members", this.token, { group });

  ticket = () => call<Ticket>("POST", "/realtime_ticket", this.token);
}
