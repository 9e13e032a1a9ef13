// Debian's Chromium as the browser tests and the README's screenshot
// launch it: headless, no browser download (playwright-core). Without the
// networking flags Chromium keeps trying to reach hosts this machine cannot
// reach; Playwright adds --headless and a fresh profile.

import { chromium } from "playwright-core";

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches Chromium (`CHROMIUM`, default /usr/bin/chromium), headless. */
export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: FLAGS, headless: true });
}
