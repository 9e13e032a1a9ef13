// Make a group: a name and the other members' logins. A refusal shows the
// API's own `error` text (an unknown login, a name too long).

import { useState } from "preact/hooks";
import { splitLogins } from "../conversations";
import { ErrorBanner } from "./ErrorBanner";

interface Props {
  onCreate: (name: string, members: string[]) => Promise<void>;
}

export function NewGroupForm({ onCreate }: Props) {
  const [expanded, setExpanded] = useState(false);
  const [name, setName] = useState("");
  const [members, setMembers] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      await onCreate(name, splitLogins(members));
      setName("");
      setMembers("");
      setExpanded(false);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <details class="new-group" open={expanded} onToggle={(event) => setExpanded(event.currentTarget.open)}>
      <summary>New group</summary>
      <form
        class="new-group__form"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <label for="group-name">Group name</label>
        <input
          id="group-name"
          autocomplete="off"
          required
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
        />
        <label for="group-members">Members</label>
        <input
          id="group-members"
          placeholder="logins, separated by commas or spaces"
          autocomplete="off"
          aria-describedby="group-members-hint"
          value={members}
          onInput={(event) => setMembers(event.currentTarget.value)}
        />
        <p id="group-members-hint" class="muted small">
          You are a member and the group's admin.
        </p>
        <ErrorBanner error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Create group
        </button>
      </form>
    </details>
  );
}
