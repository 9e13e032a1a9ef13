// `cargo lambda watch` 1.9 acknowledges a function's reply before reading
// its body, and a reply over about 10 KB is sometimes cut off and lost as
// the emulator's own 500 (the README's "cargo lambda watch loses large
// replies"); the scripts and the reference page's renderer are larger than
// that. As the Rust suites' client does, the pages' requests that are safe
// to send twice (GETs and history reads) are sent again when that happens.
// API Gateway never does it, so this is for the local stack only.

const ATTEMPTS = 5;

/** The emulator's RFC 7807 problem, never one of the API's `{"error"}`s. */
const isEmulatorProblem = (status, text) => status === 500 && text.includes('"title":"Internal Server Error"');

const safeToResend = (request) =>
  request.method() === "GET" || (request.method() === "PUT" && new URL(request.url()).pathname === "/fetch_messages");

// The pages themselves are small and go untouched: Chromium takes a page
// Playwright fulfilled for one from the public internet, and then refuses
// its socket to 127.0.0.1 (Local Network Access).
const isPage = (request) => request.resourceType() === "document";

/** @param {import("playwright-core").BrowserContext} context */
export async function retryLostReplies(context) {
  await context.route(
    (url) => url.protocol.startsWith("http"),
    async (route) => {
      if (isPage(route.request()) || !safeToResend(route.request())) return route.fallback();
      for (let attempt = 1; ; attempt += 1) {
        const response = await route.fetch();
        if (attempt < ATTEMPTS && isEmulatorProblem(response.status(), await response.text())) continue;
        return route.fulfill({ response });
      }
    },
  );
}
