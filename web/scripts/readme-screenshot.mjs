// Makes the README's picture of the web client, docs/web-client.png:
// alice at a desktop's width, a group open beside her list of
// conversations and groups with unread counts. Run against a fresh local
// stack (`make dev`, whose database lives in memory), as it registers the
// logins alice, bob, carol and dave:
//   node web/scripts/readme-screenshot.mjs [base URL, default http://127.0.0.1:9000]
// Chromium as the browser tests launch it (tests/browser.test.mjs).

import { api, register, send } from "../tests/support/api.mjs";
import { launchChromium } from "../tests/support/chromium.mjs";
import { retryLostReplies } from "../tests/support/emulator.mjs";

const BASE = process.argv[2] ?? "http://127.0.0.1:9000";
const OUT = new URL("../../docs/web-client.png", import.meta.url).pathname;

const [alice, bob, carol, dave] = await Promise.all(["alice", "bob", "carol", "dave"].map((login) => register(BASE, login)));

// A conversation alice has read, a group she is reading, and news elsewhere.
await send(BASE, bob, alice.login, "Thanks for the notes!");
await api(BASE, alice, "PUT", "/fetch_new_messages", { sender: bob.login });
const review = await api(BASE, alice, "POST", "/create_group", { name: "Design review", members: [bob.login, carol.login] });
await send(BASE, alice, { group: review.group }, "The design review moved to 3 pm, same room.");
await send(BASE, bob, { group: review.group }, "Works for me. I'll bring the new mock-ups.");
await send(BASE, carol, { group: review.group }, "I'll be five minutes late, start without me.");
await send(BASE, dave, alice.login, "Can you send me the slides?");
await send(BASE, dave, alice.login, "The ones from Monday.");
const lunch = await api(BASE, carol, "POST", "/create_group", { name: "Lunch crew", members: [alice.login, dave.login] });
await send(BASE, carol, { group: lunch.group }, "Noon on Friday?");

const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 620 } });
  context.setDefaultTimeout(45_000);
  await retryLostReplies(context);
  // Signed in as the client keeps a session: in the tab's sessionStorage.
  await context.addInitScript((session) => sessionStorage.setItem("messenger.session", session), JSON.stringify(alice));
  const page = await context.newPage();
  await page.goto(`${BASE}/`);
  await page.getByTestId("live-status").filter({ hasText: "Live" }).waitFor();
  await page.getByRole("button", { name: /^Lunch crew/ }).getByTestId("unread").waitFor();
  await page.getByRole("button", { name: /^Design review/ }).click();
  await page.getByRole("log").getByText("start without me").waitFor();
  await page.getByTestId("members").waitFor();
  // No hover left on the list.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
}
