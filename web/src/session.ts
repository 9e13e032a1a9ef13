// Who is signed in, kept for this browser tab only (sessionStorage): a
// reload keeps the session, closing the tab ends it, and another tab may
// sign in as someone else.

export interface Session {
  login: string;
  token: string;
}

const KEY = "messenger.session";

export function loadSession(): Session | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Partial<Session> | null;
    return stored?.login && stored.token ? { login: stored.login, token: stored.token } : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}
