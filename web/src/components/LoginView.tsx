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
        <Field id="login" label="Login" autocomplete="username" value={login} onValue={setLogin} />
        <Field
          id="password"
          label="Password"
          secret
          autocomplete="current-password"
          value={password}
          onValue={setPassword}
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

interface FieldProps {
  id: string;
  label: string;
  /** Typed out as dots. */
  secret?: boolean;
  autocomplete: string;
  value: string;
  onValue: (value: string) => void;
}

/** A required input with its label. */
function Field({ id, label, secret = false, autocomplete, value, onValue }: FieldProps) {
  // Preact types an input's attributes by its type: one literal per branch.
  const kind = secret ? ({ type: "password" } as const) : ({ type: "text" } as const);
  return (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        name={id}
        {...kind}
        autocomplete={autocomplete}
        required
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
      />
    </>
  );
}
