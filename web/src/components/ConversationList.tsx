// The list of conversations and groups with their unread counts, a form to
// start a conversation and one to make a group.

import { useState } from "preact/hooks";
import { type Conversation, keyOfConversation, titleOf } from "../conversations";
import { formatTime } from "../time";
import { NewGroupForm } from "./NewGroupForm";

/** What the API accepts as a login. */
const LOGIN = /^[A-Za-z0-9._+@-]{3,128}$/;

interface Props {
  conversations: Conversation[];
  /** The open one's key. */
  open: string | null;
  onOpen: (conversation: Conversation) => void;
  /** A conversation with this login, listed or not. */
  onStart: (login: string) => void;
  onCreateGroup: (name: string, members: string[]) => Promise<void>;
}

export function ConversationList({ conversations, open, onOpen, onStart, onCreateGroup }: Props) {
  const [peer, setPeer] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  return (
    <nav class="list" aria-label="Conversations">
      <form
        class="list__start"
        onSubmit={(event) => {
          event.preventDefault();
          const login = peer.trim();
          if (!LOGIN.test(login)) return setProblem("a login is 3 to 128 letters, digits or . _ - + @");
          setProblem(null);
          setPeer("");
          onStart(login);
        }}
      >
        <label for="start-with">Start a conversation</label>
        <div class="row">
          <input
            id="start-with"
            placeholder="their login"
            autocomplete="off"
            aria-invalid={problem ? "true" : "false"}
            aria-describedby={problem ? "start-problem" : undefined}
            value={peer}
            onInput={(event) => setPeer(event.currentTarget.value)}
          />
          <button type="submit">Open</button>
        </div>
        {problem && (
          <p id="start-problem" class="field-problem">
            {problem}
          </p>
        )}
      </form>
      <NewGroupForm onCreate={onCreateGroup} />
      {conversations.length === 0 ? (
        <p class="muted list__empty">
          No conversations yet. Start one or make a group above, or wait for someone to write.
        </p>
      ) : (
        <ul class="list__items">
          {conversations.map((conversation) => (
            <li key={keyOfConversation(conversation)}>
              <button
                type="button"
                class="list__item"
                aria-current={keyOfConversation(conversation) === open ? "true" : undefined}
                onClick={() => onOpen(conversation)}
              >
                <span class="list__name">
                  {titleOf(conversation)}
                  {conversation.kind === "group" && <span class="list__kind"> · group</span>}
                </span>
                <span class="list__time">{conversation.lastMessageAt && formatTime(conversation.lastMessageAt)}</span>
                {conversation.unread > 0 && (
                  <span class="badge" data-testid="unread">
                    {conversation.unread}
                    <span class="sr-only"> unread</span>
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
