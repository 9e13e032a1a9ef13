// The web client in headless Chromium (Debian's, driven by playwright-core;
// no browser download), against the stack at MESSENGER_API_URL: two users
// in two browser contexts, one at a desktop's width and one at a phone's,
// in a conversation and then in a group with a third (who uses the API).
// Each step keeps a screenshot under target/browser-screenshots/.
// `make test` runs it after the Rust suites (`npm run test:browser` in
// web/); against a stack already running, e.g. `make dev`'s:
// `cd web && MESSENGER_API_URL=http://127.0.0.1:9000 npm run test:browser`.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { api, register, send, uniqueLogin } from "./support/api.mjs";
import { launchChromium } from "./support/chromium.mjs";
import { retryLostReplies } from "./support/emulator.mjs";
import { until } from "./support/until.mjs";

const BASE = process.env.MESSENGER_API_URL ?? "http://127.0.0.1:9000";
const SHOTS = process.env.BROWSER_SCREENSHOTS ?? new URL("../../target/browser-screenshots/", import.meta.url).pathname;
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const PASSWORD = "correct horse battery";

/** @type {import("playwright-core").Browser} */
let browser;
/** Every URL the pages asked for, to prove nothing comes from elsewhere. */
const requested = new Set();
let shot = 0;

/** Alice at a desktop's width, Bob at a phone's. */
const alice = { login: uniqueLogin("alice"), /** @type {import("playwright-core").Page} */ page: undefined };
const bob = { login: uniqueLogin("bob"), /** @type {import("playwright-core").Page} */ page: undefined };
/** The third member of the group, through the API only. */
const dana = { login: uniqueLogin("dana"), token: "" };
const GROUP = "Lunch crew";
/** The group's id, once Alice made it. */
let lunch = "";
/** Bob's sockets, as the page opened them, to drop one. */
const bobSockets = [];
/** While set, Bob's next ticket request waits for it. */
let holdBobsTicket = null;

async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: `${SHOTS}/${String(shot).padStart(2, "0")}-${name}.png` });
}

async function openContext(options) {
  const context = await browser.newContext(options);
  // The local stack starts a function's first instance on its first call.
  context.setDefaultTimeout(45_000);
  context.on("request", (request) => requested.add(request.url()));
  await retryLostReplies(context);
  return context;
}

const receipts = (page) => page.getByTestId("receipt");
const unreadFrom = (page, login) => page.getByRole("button", { name: new RegExp(`^${login}`) }).getByTestId("unread");
/** The same, also while the list is hidden (a phone's width with a conversation open). */
const unreadListed = (page, name) =>
  page.getByRole("button", { name: new RegExp(`^${name}`), includeHidden: true }).getByTestId("unread");
const messageList = (page) => page.getByRole("log");
const listItems = (page) => page.locator(".list__items").getByRole("button");
const openItem = (page, name) => page.getByRole("button", { name: new RegExp(`^${name}`) }).click();
/** The signed-in user of a page, token included, for the API's side of a check. */
const userOf = async (page) =>
  JSON.parse(await page.evaluate(() => sessionStorage.getItem("messenger.session") ?? "null"));
/** Who wrote the message with this text, as the log shows it. */
const senderOf = (page, text) =>
  messageList(page).getByRole("listitem").filter({ hasText: text }).getByTestId("sender").textContent();

/** Drops Bob's socket and keeps him from opening another until the returned function is called. */
async function dropBobsSocket() {
  let release;
  holdBobsTicket = new Promise((resolve) => (release = resolve));
  const { page: socket, server } = bobSockets.at(-1);
  await server.close();
  await socket.close();
  await bob.page.getByTestId("live-status").filter({ hasText: /Reconnecting|Connecting/ }).waitFor();
  return () => {
    release();
    holdBobsTicket = null;
  };
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  alice.page = await (await openContext(DESKTOP)).newPage();
  const bobsContext = await openContext(PHONE);
  await bobsContext.routeWebSocket(/.*/, (socket) => {
    bobSockets.push({ page: socket, server: socket.connectToServer() });
  });
  await bobsContext.route("**/realtime_ticket", async (route) => {
    await holdBobsTicket;
    await route.fallback();
  });
  bob.page = await bobsContext.newPage();
});

after(async () => {
  await browser?.close();
});

test("a wrong password shows the API's error, with the keyboard alone", async () => {
  const page = alice.page;
  await page.goto(`${BASE}/`);
  await page.getByRole("heading", { name: "messenger" }).waitFor();
  await screenshot(page, "login");
  // Labels name the inputs; Tab and Enter do the rest.
  await page.getByLabel("Login").focus();
  await page.keyboard.type(alice.login);
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "password");
  await page.keyboard.type("not the password");
  await page.keyboard.press("Enter");
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.equal((await alert.textContent())?.trim(), "invalid login or password");
  await screenshot(page, "wrong-password");
});

test("two people register, each in a browser of their own", async () => {
  for (const person of [alice, bob]) {
    const page = person.page;
    if (page.url() === "about:blank") await page.goto(`${BASE}/`);
    await page.getByLabel("Login").fill(person.login);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByTestId("me").filter({ hasText: person.login }).waitFor();
    await page.getByTestId("live-status").filter({ hasText: "Live" }).waitFor();
  }
  await screenshot(alice.page, "signed-in");
  await screenshot(bob.page, "phone-signed-in");
});

test("a message appears live for the other, with an unread count", async () => {
  await alice.page.getByLabel("Start a conversation").fill(bob.login);
  await alice.page.getByRole("button", { name: "Open" }).click();
  const composer = alice.page.getByLabel(`Message to ${bob.login}`);
  await composer.fill("Hello Bob! Lunch at noon?");
  await composer.press("Enter");
  await messageList(alice.page).getByText("Hello Bob! Lunch at noon?").waitFor();
  assert.equal(await receipts(alice.page).last().textContent(), "✓ Sent");
  // No reload: the socket brought it.
  await unreadFrom(bob.page, alice.login).filter({ hasText: "1" }).waitFor();
  await screenshot(alice.page, "sent");
  await screenshot(bob.page, "phone-unread");
});

test("opening the conversation reads it, and the sender sees the receipt live", async () => {
  await bob.page.getByRole("button", { name: new RegExp(`^${alice.login}`) }).click();
  await messageList(bob.page).getByText("Hello Bob! Lunch at noon?").waitFor();
  await receipts(alice.page).last().filter({ hasText: "✓✓ Read" }).waitFor();
  await bob.page.getByRole("button", { name: "Conversations" }).click();
  await until(async () => (await unreadFrom(bob.page, alice.login).count()) === 0, "Bob's unread count clears");
  await bob.page.getByRole("button", { name: new RegExp(`^${alice.login}`) }).click();
  await screenshot(alice.page, "read-receipt");
});

test("a reply arrives in the open conversation, and is read there at once", async () => {
  const composer = bob.page.getByLabel(`Message to ${alice.login}`);
  await composer.fill("Noon is fine. See you there.");
  await bob.page.getByRole("button", { name: "Send" }).click();
  await messageList(alice.page).getByText("Noon is fine. See you there.").waitFor();
  // Alice has the conversation open: what arrives is read, and Bob is told.
  await receipts(bob.page).last().filter({ hasText: "✓✓ Read" }).waitFor();
  assert.equal(await unreadFrom(alice.page, bob.login).count(), 0);
  await screenshot(alice.page, "conversation");
  await screenshot(bob.page, "phone-conversation");
});

test("history pages back as you scroll up", async () => {
  const carol = await register(BASE, uniqueLogin("carol"));
  for (let n = 1; n <= 45; n += 1) await send(BASE, carol, alice.login, `history ${n}`);
  await unreadFrom(alice.page, carol.login).filter({ hasText: "45" }).waitFor();
  await screenshot(alice.page, "unread-counts");
  await alice.page.getByRole("button", { name: new RegExp(`^${carol.login}`) }).click();
  const log = messageList(alice.page);
  await log.getByText("history 45", { exact: true }).waitFor();
  // A page is 30 messages: the oldest 15 come only when scrolled to.
  assert.equal(await log.getByText("history 1", { exact: true }).count(), 0);
  await until(async () => {
    await log.evaluate((element) => (element.scrollTop = 0));
    return (await log.getByText("history 1", { exact: true }).count()) === 1;
  }, "the oldest message, after scrolling up");
  assert.equal(await log.getByText(/^history \d+$/).count(), 45);
  await until(async () => (await unreadFrom(alice.page, carol.login).count()) === 0, "Carol's messages read");
  await screenshot(alice.page, "history");
  const reads = await api(BASE, carol, "PUT", "/fetch_messages", { recipient: alice.login, sender: carol.login, start: -1 });
  assert.equal(reads.messages[0].read, true, "opening the conversation marked it read");
});

test("after a reconnect, fetch_new_messages catches up on what the socket missed", async () => {
  await alice.page.getByRole("button", { name: new RegExp(`^${bob.login}`) }).click();
  const release = await dropBobsSocket();
  await screenshot(bob.page, "phone-reconnecting");
  // Sent while Bob holds no socket: no frame can bring it.
  const composer = alice.page.getByLabel(`Message to ${bob.login}`);
  await composer.fill("Sent while your socket was down.");
  await composer.press("Enter");
  await messageList(alice.page).getByText("Sent while your socket was down.").waitFor();
  release();
  await messageList(bob.page).getByText("Sent while your socket was down.").waitFor();
  await bob.page.getByTestId("live-status").filter({ hasText: "Live" }).waitFor();
  await receipts(alice.page).last().filter({ hasText: "✓✓ Read" }).waitFor();
  await screenshot(bob.page, "phone-caught-up");
});

test("GET /docs renders openapi.yaml as a browsable reference", async () => {
  const page = alice.page;
  await page.goto(`${BASE}/docs`);
  await page.getByRole("heading", { name: /messenger/ }).first().waitFor();
  await page.getByText("/send_message", { exact: true }).first().waitFor();
  await screenshot(page, "api-reference");
});

test("a group is made from the list, and a refusal shows the API's own error", async () => {
  dana.token = (await register(BASE, dana.login)).token;
  const page = alice.page;
  // A reload keeps the session (the tab's sessionStorage).
  await page.goto(`${BASE}/`);
  await page.getByTestId("live-status").filter({ hasText: "Live" }).waitFor();
  // The form is a disclosure: Enter on its summary opens it.
  await page.getByText("New group", { exact: true }).focus();
  await page.keyboard.press("Enter");
  await page.getByLabel("Group name").fill(GROUP);
  const stranger = uniqueLogin("nobody");
  await page.getByLabel("Members").fill(`${bob.login}, ${stranger}`);
  await page.getByRole("button", { name: "Create group" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.equal((await alert.textContent())?.trim(), `${stranger} is not a registered user`);
  await screenshot(page, "group-refused");
  // Commas, spaces or both; Enter creates it and opens it.
  await page.getByLabel("Members").fill(`${bob.login}, ${dana.login}`);
  await page.getByLabel("Members").press("Enter");
  await page.getByRole("heading", { name: GROUP }).waitFor();
  await page.getByTestId("members").filter({ hasText: "3 members" }).waitFor();
  assert.equal(await page.getByRole("alert").count(), 0);
  const { groups } = await api(BASE, dana, "GET", "/groups");
  assert.deepEqual(
    groups.map((g) => g.name),
    [GROUP],
  );
  lunch = groups[0].group;
});

test("a group message appears live in the others' lists, newest first, with an unread count", async () => {
  const composer = alice.page.getByLabel(`Message to ${GROUP}`);
  await composer.fill("Lunch at noon, everyone?");
  await composer.press("Enter");
  await messageList(alice.page).getByText("Lunch at noon, everyone?").waitFor();
  // Bob's client has not heard of the group: the push makes it read GET /groups.
  // He has Alice's conversation open (the list hidden at his width), where her
  // group message does not belong.
  await until(async () => (await unreadListed(bob.page, GROUP).count()) === 1, "the group listed for Bob");
  assert.equal(await messageList(bob.page).getByText("Lunch at noon, everyone?").count(), 0);
  await bob.page.getByRole("button", { name: "Conversations" }).click();
  await unreadFrom(bob.page, GROUP).filter({ hasText: "1" }).waitFor();
  // A known group's next push counts one more.
  await send(BASE, dana, { group: lunch }, "Count me in.");
  await unreadFrom(bob.page, GROUP).filter({ hasText: "2" }).waitFor();
  assert.match((await listItems(bob.page).first().textContent()) ?? "", new RegExp(`^${GROUP}`));
  assert.match((await listItems(bob.page).nth(1).textContent()) ?? "", new RegExp(`^${alice.login}`));
  // One-to-one conversations are untouched by group messages.
  assert.equal(await unreadFrom(bob.page, alice.login).count(), 0);
  await screenshot(bob.page, "phone-group-unread");
});

test("opening the group reads it, each message with its sender's name", async () => {
  await openItem(bob.page, GROUP);
  await bob.page.getByRole("heading", { name: GROUP }).waitFor();
  assert.equal(await senderOf(bob.page, "Lunch at noon, everyone?"), alice.login);
  assert.equal(await senderOf(bob.page, "Count me in."), dana.login);
  // fetch_new_messages {"group"} counted them read: GET /groups says so.
  const bobUser = await userOf(bob.page);
  await until(async () => {
    const { groups } = await api(BASE, bobUser, "GET", "/groups");
    return groups.find((g) => g.group === lunch)?.new_messages === 0;
  }, "Bob's group read");
  await until(async () => (await unreadListed(bob.page, GROUP).count()) === 0, "Bob's count cleared");
  await bob.page.getByTestId("members").click();
  await bob.page.getByRole("listitem").filter({ hasText: `${alice.login} (admin)` }).waitFor();
  await screenshot(bob.page, "phone-group-members");
  await bob.page.getByTestId("members").click();
});

test("in an open group, others' messages arrive live with their names, and a reply reaches everyone", async () => {
  await send(BASE, dana, { group: lunch }, "I'll book a table for three.");
  await messageList(bob.page).getByText("I'll book a table for three.").waitFor();
  await messageList(alice.page).getByText("I'll book a table for three.").waitFor();
  assert.equal(await senderOf(alice.page, "I'll book a table for three."), dana.login);
  const composer = bob.page.getByLabel(`Message to ${GROUP}`);
  await composer.fill("Great, see you both at noon.");
  await bob.page.getByRole("button", { name: "Send" }).click();
  await messageList(alice.page).getByText("Great, see you both at noon.").waitFor();
  assert.equal(await senderOf(alice.page, "Great, see you both at noon."), bob.login);
  // My own messages carry no name; the group is read where it is open.
  const mine = messageList(alice.page).getByRole("listitem").filter({ hasText: "Lunch at noon" });
  assert.equal(await mine.getByTestId("sender").count(), 0);
  await until(async () => (await unreadFrom(alice.page, GROUP).count()) === 0, "Alice's open group stays read");
  assert.match((await listItems(alice.page).first().textContent()) ?? "", new RegExp(`^${GROUP}`));
  // Dana, through the API, has both as new group messages (the reply was sent with "group").
  const { messages } = await api(BASE, dana, "PUT", "/fetch_new_messages", { group: lunch });
  assert.deepEqual(
    messages.map((m) => [m.sender, m.group]),
    [
      [alice.login, lunch],
      [bob.login, lunch],
    ],
  );
  await screenshot(alice.page, "group");
  await screenshot(bob.page, "phone-group");
});

test("a group's read receipt never marks a one-to-one message read", async () => {
  await bob.page.getByRole("button", { name: "Conversations" }).click();
  await openItem(bob.page, alice.login);
  const composer = bob.page.getByLabel(`Message to ${alice.login}`);
  await composer.fill("Are we still on for Friday?");
  await composer.press("Enter");
  await messageList(bob.page).getByText("Are we still on for Friday?").waitFor();
  // Alice has the group open, not this conversation: it stays unread.
  await receipts(bob.page).last().filter({ hasText: "✓ Sent" }).waitFor();
  // Alice reading Bob's group messages is a receipt with "group", which must
  // not reach this conversation, however late its "through".
  const { page: socket } = bobSockets.at(-1);
  const late = "9999-12-31T23:59:59.999999Z";
  socket.send(JSON.stringify({ type: "read", by: alice.login, group: lunch, through: late }));
  // Frames are handled in order: once a later one shows, the receipt was handled.
  const after = { sender: alice.login, recipient: bob.login, timestamp: late, message: "A frame after the receipt." };
  socket.send(JSON.stringify({ type: "message", message: after }));
  await messageList(bob.page).getByText("A frame after the receipt.").waitFor();
  const bobs = messageList(bob.page).getByRole("listitem").filter({ hasText: "Are we still on for Friday?" });
  assert.equal(await bobs.getByTestId("receipt").textContent(), "✓ Sent");
});

test("a group's history pages back as you scroll up", async () => {
  await bob.page.getByRole("button", { name: "Conversations" }).click();
  for (let n = 1; n <= 35; n += 1) await send(BASE, dana, { group: lunch }, `group history ${n}`);
  await unreadFrom(bob.page, GROUP).filter({ hasText: "35" }).waitFor();
  await openItem(bob.page, GROUP);
  const log = messageList(bob.page);
  await log.getByText("group history 35", { exact: true }).waitFor();
  // A page is 30 messages: the oldest 9 of the group's 39 come only when scrolled to.
  assert.equal(await log.getByText("group history 1", { exact: true }).count(), 0);
  await until(async () => {
    await log.evaluate((element) => (element.scrollTop = 0));
    return (await log.getByText("Lunch at noon, everyone?").count()) === 1;
  }, "the group's first message, after scrolling up");
  assert.equal(await log.getByText(/^group history \d+$/).count(), 35);
  await until(async () => (await unreadListed(bob.page, GROUP).count()) === 0, "the burst read");
  await screenshot(bob.page, "phone-group-history");
});

test("after a reconnect, the catch-up covers groups: the open one and GET /groups", async () => {
  const release = await dropBobsSocket();
  // Sent while Bob holds no socket: no frame can bring either.
  const composer = alice.page.getByLabel(`Message to ${GROUP}`);
  await composer.fill("Sent to the group while your socket was down.");
  await composer.press("Enter");
  await messageList(alice.page).getByText("Sent to the group while your socket was down.").waitFor();
  const book = await api(BASE, dana, "POST", "/create_group", { name: "Book club", members: [bob.login] });
  await send(BASE, dana, { group: book.group }, "Chapter 3 tonight?");
  release();
  await bob.page.getByTestId("live-status").filter({ hasText: "Live" }).waitFor();
  await messageList(bob.page).getByText("Sent to the group while your socket was down.").waitFor();
  await bob.page.getByRole("button", { name: "Conversations" }).click();
  await unreadFrom(bob.page, "Book club").filter({ hasText: "1" }).waitFor();
  assert.equal(await unreadFrom(bob.page, GROUP).count(), 0);
  await screenshot(bob.page, "phone-groups-caught-up");
});

test("every file and call came from the stack itself, none from a CDN", () => {
  const api = new URL(BASE);
  const foreign = [...requested].filter((url) => {
    const parsed = new URL(url);
    return parsed.protocol !== "data:" && parsed.hostname !== api.hostname;
  });
  assert.deepEqual(foreign, []);
  assert.ok(requested.size > 10, `${requested.size} requests`);
});
