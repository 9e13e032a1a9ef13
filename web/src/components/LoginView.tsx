// Log in or create an account. Errors are the API's own words.

import { useState } from "preact/hooks";
import { logIn, register } from "../api";
import type { Session } from "../session";
import { ErrorBanner } from "./ErrorBanner";

export function LoginView({ onSession }: { onSession: (session: Session) => void }) {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const attempt = async (how: "log in" | "register") => {
    setBusy(true);
    setError(null);
    try {
      const { token } = how === "log in" ? await logIn(login, password) : await register(login, password);
      onSession({ login, token });
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form
        class="card login__form"
        aria-labelledby="login-title"
        onSubmit={(event) => {
          event.preventDefault();
          void attempt("log in");
        }}
      >
        <h1 id="login-title" class="brand">messenger</h1>
        <p class="muted">Log in, or create an account with a login and a password.</p>
        <label for="login">Login</label>
        <input
          id="login"
          name="login"
          autocomplete="username"
          required
          value={login}
          onInput={(event) => setLogin(event.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <ErrorBanner error={error} />
        <div class="login__actions">
          <button type="submit" class="primary" disabled={busy}>
            Log in
          </button>
          <button type="button" disabled={busy} onClick={() => void attempt("register")}>
            Create account
          </button>
        </div>
        <p class="muted small">
          A login is 3 to 128 letters, digits or <code>. _ - + @</code>: a user name, an e-mail address or a phone
          number. Passwords have at least 8 characters. <a href="/docs">API reference</a>
        </p>
      </form>
    </main>
  );
}
