// How every Playwright run here launches Debian's Chromium (Playwright downloads no browser):
// the browser tests (playwright.config.ts) and the round-trip benchmark (bench/round-trip.mjs).
export const chromiumLaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  // Without the networking flags Chromium keeps calling hosts this offline machine cannot reach.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
  ],
};
