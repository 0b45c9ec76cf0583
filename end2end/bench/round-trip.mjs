// The sign-in round trip in a real browser, for scripts/bench.sh (not part of the test command):
// from the click on a persona at the development provider to the dashboard painted, and then
// interactive (hydrated). The click submits the persona form; the browser follows the provider's
// redirect to /auth/callback, the app exchanges the code and validates the tokens, redirects to
// /dashboard and renders it. Every step is the app's own, on the release build.
//
// The times come from the dashboard document's own Navigation and Paint Timing, whose origin is
// the start of the navigation the click began (the redirects are same-origin, so they count), so
// Playwright's polling adds nothing. Each sign-in uses a fresh browser context (no cookies, an
// empty cache), as a first visit would. The baseline, measured the same way in the same run, is a
// plain navigation to the dashboard's own bytes served from memory through the app's middleware
// (/_bench/page), after /login in the same context as the sign-in: what painting this page costs
// this browser without any sign-in work.
//
// Usage: node end2end/bench/round-trip.mjs BASE_URL [runs]   (loopback only; BENCH_ROUND_TRIPS)
// Prints a table and writes target/bench-round-trip.json (BENCH_ROUND_TRIP_JSON).
import { writeFileSync } from "node:fs";
import { chromium } from "@playwright/test";
import { chromiumLaunchOptions } from "../chromium.mjs";

const base = (process.argv[2] ?? "").replace(/\/$/, "");
if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(base)) {
  console.error("usage: round-trip.mjs http://127.0.0.1:PORT [runs]  (loopback only)");
  process.exit(2);
}
const runs = Number(process.argv[3] ?? process.env.BENCH_ROUND_TRIPS ?? 15);
const warmUps = 2;
const goalMs = 150;
const persona = /Max Member/; // one organization: no organization picker in between
const output = process.env.BENCH_ROUND_TRIP_JSON ?? "target/bench-round-trip.json";

// Records when the app marks itself interactive (src/app.rs sets data-hydrated on <body>), in the
// document's own clock. Injected by the browser, so the page's CSP does not apply to it.
function recordHydration() {
  const record = () => {
    if (document.body?.dataset.hydrated === "true" && window.__hydratedAt === undefined) {
      window.__hydratedAt = performance.now();
    }
  };
  new MutationObserver(record).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
}

// The dashboard document's timings, in ms from the start of the navigation.
function documentTimings() {
  const [nav] = performance.getEntriesByType("navigation");
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    redirects: nav.redirectCount,
    firstByte: nav.responseStart,
    painted: paint ? paint.startTime : null,
    hydrated: window.__hydratedAt ?? null,
  };
}

async function freshPage(browser) {
  const context = await browser.newContext({ baseURL: base });
  await context.addInitScript(recordHydration);
  return { context, page: await context.newPage() };
}

async function signInOnce(browser) {
  const { context, page } = await freshPage(browser);
  try {
    await page.goto("/login?next=/dashboard");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Choose who signs in" }).waitFor();
    await page.getByRole("button", { name: persona }).click();
    await page.waitForURL(/\/dashboard$/);
    await page.getByRole("heading", { level: 1, name: /^Welcome, / }).waitFor();
    await page.waitForFunction(() => window.__hydratedAt !== undefined);
    const timings = await page.evaluate(documentTimings);
    if (timings.redirects < 1) throw new Error("the sign-in redirects were not counted: not a same-origin round trip");
    return timings;
  } finally {
    await context.close();
  }
}

async function baselineOnce(browser) {
  const { context, page } = await freshPage(browser);
  try {
    // The sign-in starts on /login, which caches the stylesheet and the first-load wasm; so here.
    await page.goto("/login?next=/dashboard");
    await page.goto("/_bench/page");
    await page.waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length > 0);
    return await page.evaluate(documentTimings);
  } finally {
    await context.close();
  }
}

function median(values) {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function percentile(values, p) {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null;
}

const ms = (value) => (value === null ? "n/a" : `${value.toFixed(1)} ms`);

const browser = await chromium.launch(chromiumLaunchOptions);
const signIns = [];
const baselines = [];
try {
  // Alternating, so a noisy moment on the shared machine hits both series alike.
  for (let i = 0; i < warmUps + runs; i++) {
    const signIn = await signInOnce(browser);
    const baseline = await baselineOnce(browser);
    if (i >= warmUps) {
      signIns.push(signIn);
      baselines.push(baseline);
    }
  }
} finally {
  await browser.close();
}

const summary = (series, key) => ({ median: median(series.map((t) => t[key])), p90: percentile(series.map((t) => t[key]), 90) });
const result = {
  runs,
  persona: persona.source,
  sign_in: { first_byte: summary(signIns, "firstByte"), painted: summary(signIns, "painted"), hydrated: summary(signIns, "hydrated") },
  baseline_page: { first_byte: summary(baselines, "firstByte"), painted: summary(baselines, "painted") },
  goal_painted_ms: goalMs,
};
const painted = result.sign_in.painted.median;
const floor = result.baseline_page.painted.median;
result.met = painted !== null && painted <= goalMs;

console.log(`sign-in round trip in Chromium, ${runs} fresh contexts (medians, p90 in brackets)`);
console.log(`  persona picked -> dashboard's first byte   ${ms(result.sign_in.first_byte.median)} (${ms(result.sign_in.first_byte.p90)})`);
console.log(`  persona picked -> dashboard painted        ${ms(painted)} (${ms(result.sign_in.painted.p90)})` +
  `   goal <= ${goalMs} ms: ${result.met ? "met" : "NOT MET"}`);
console.log(`  persona picked -> dashboard interactive    ${ms(result.sign_in.hydrated.median)} (${ms(result.sign_in.hydrated.p90)})`);
console.log(`  baseline: the same bytes from memory, painted ${ms(floor)} (${ms(result.baseline_page.painted.p90)})` +
  (painted !== null && floor ? `; the round trip is ${(painted / floor).toFixed(2)}x that` : ""));
writeFileSync(output, JSON.stringify(result, null, 2));
