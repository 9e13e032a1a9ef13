// The API called from the test itself, for what no browser needs to show:
// a third user, a burst of messages, a group made elsewhere.

import { randomBytes } from "node:crypto";

/** A login no earlier run used, so runs against one stack never collide. */
export const uniqueLogin = (prefix) => `${prefix}-${randomBytes(5).toString("hex")}`;

export async function api(base, user, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const reply = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(reply)}`);
  return reply;
}

export async function register(base, login) {
  const response = await fetch(`${base}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ login }),
  });
  const reply = await response.json();
  if (response.status !== 201) throw new Error(`register ${login}: ${response.status} ${JSON.stringify(reply)}`);
  return { login, token: reply.token };
}

/** With an Idempotency-Key, so a retry never sends twice. `to` is a login,
 * or `{ group }` for a group message. */
export async function send(base, user, to, message) {
  const key = randomBytes(8).toString("hex");
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${base}/send_message`, {
      method: "POST",
      headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json", "Idempotency-Key": key },
      body: JSON.stringify({ ...(typeof to === "string" ? { recipient: to } : to), message }),
    });
    if (response.status === 201) return response.json();
    if (attempt === 5) throw new Error(`send: ${response.status} ${await response.text()}`);
  }
}
