// Hands the socket's frames, and each (re)open, to whichever view listens.

import type { Frame } from "./live";

export type LiveEvent = Frame | { type: "opened" };

export class LiveBus {
  private listeners = new Set<(event: LiveEvent) => void>();

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
