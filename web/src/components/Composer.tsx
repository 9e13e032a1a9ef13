// The message box under a conversation or a group: Enter sends, Shift+Enter
// starts a new line, and the text stays until the send succeeds.

import { useState } from "preact/hooks";

interface ComposerProps {
  /** Whom the message goes to, as the label says it. */
  to: string;
  onSend: (text: string) => Promise<void>;
  onError: (error: unknown) => void;
}

export function Composer({ to, onSend, onError }: ComposerProps) {
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const submit = async () => {
    if (!text.trim() || sending) return;
    setSending(true);
    try {
      await onSend(text);
      setText("");
    } catch (error) {
      onError(error);
    } finally {
      setSending(false);
    }
  };
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <label for="composer" class="sr-only">
        Message to {to}
      </label>
      <textarea
        id="composer"
        rows={2}
        placeholder={`Message ${to}`}
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
        onKeyDown={(event) => {
          // Enter sends; Shift+Enter starts a new line.
          if (event.key === "Enter" && !event.shiftKey) {
            event.preventDefault();
            void submit();
          }
        }}
      />
      <button type="submit" class="primary" disabled={sending || !text.trim()}>
        Send
      </button>
    </form>
  );
}
