// Signed out: the login form. Signed in: the messenger.

import { useCallback, useState } from "preact/hooks";
import { loadSession, saveSession, type Session } from "../session";
import { ErrorBanner } from "./ErrorBanner";
import { LoginView } from "./LoginView";
import { Messenger } from "./Messenger";

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [notice, setNotice] = useState<string | null>(null);

  const signIn = useCallback((next: Session) => {
    saveSession(next);
    setNotice(null);
    setSession(next);
  }, []);
  const signOut = useCallback((why?: string) => {
    saveSession(null);
    setNotice(why ?? null);
    setSession(null);
  }, []);

  if (session) return <Messenger key={session.token} session={session} onSignOut={signOut} />;
  return (
    <>
      <ErrorBanner error={notice} onDismiss={() => setNotice(null)} />
      <LoginView onSession={signIn} />
    </>
  );
}
