// The web client in headless Chromium (Debian's, driven by playwright-core;
// no browser download), against the stack at MESSENGER_API_URL: two users
// in two browser contexts, one at a desktop's width and one at a phone's.
// Each step keeps a screenshot under target/browser-screenshots/.
// `make test` runs it after the Rust suites: `node --test tests/` in web/.

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

import { api, register, send, uniqueLogin } from "./support/api.mjs";
import { retryLostReplies } from "./support/emulator.mjs";
import { until } from "./support/until.mjs";

const BASE = process.env.MESSENGER_API_URL ?? "http://127.0.0.1:9000";
const SHOTS = process.env.BROWSER_SCREENSHOTS ?? new URL("../../target/browser-screenshots/", import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Without the networking flags Chromium keeps trying to reach hosts this
// machine cannot reach; Playwright adds --headless and a fresh profile.
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
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
const messageList = (page) => page.getByRole("log");

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
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
  let release;
  holdBobsTicket = new Promise((resolve) => (release = resolve));
  const { page: socket, server } = bobSockets.at(-1);
  await server.close();
  await socket.close();
  await bob.page.getByTestId("live-status").filter({ hasText: /Reconnecting|Connecting/ }).waitFor();
  await screenshot(bob.page, "phone-reconnecting");
  // Sent while Bob holds no socket: no frame can bring it.
  const composer = alice.page.getByLabel(`Message to ${bob.login}`);
  await composer.fill("Sent while your socket was down.");
  await composer.press("Enter");
  await messageList(alice.page).getByText("Sent while your socket was down.").waitFor();
  release();
  holdBobsTicket = null;
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

test("every file and call came from the stack itself, none from a CDN", () => {
  const api = new URL(BASE);
  const foreign = [...requested].filter((url) => {
    const parsed = new URL(url);
    return parsed.protocol !== "data:" && parsed.hostname !== api.hostname;
  });
  assert.deepEqual(foreign, []);
  assert.ok(requested.size > 10, `${requested.size} requests`);
});
