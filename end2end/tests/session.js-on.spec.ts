import { test, expect, waitForHydration } from "./fixtures";
import type { Page } from "@playwright/test";
import { accessFingerprint, control, signIn } from "./helpers";

test.afterEach(async ({ page }) => {
  await control(page, { reset: "true" });
});

/** Refresh-token grants the development provider has answered so far. */
async function refreshCalls(page: Page): Promise<number> {
  const response = await page.request.post("/dev-idp/_control", { form: {} });
  expect(response.ok()).toBeTruthy();
  const body = await response.json();
  return body.controls.token_calls.refresh_token ?? 0;
}

test("R10: the countdown ticks in the browser and never triggers a refresh", async ({ page }) => {
  await signIn(page, /Ada Admin/, "/sessions");
  // The server renders none of it: the page as sent has no "(… left)".
  const sent = await (await page.request.get("/sessions")).text();
  expect(sent).toContain('data-testid="countdown"');
  expect(sent).not.toMatch(/\([^()]* left\)/);
  await waitForHydration(page);
  const refreshesBefore = await refreshCalls(page);
  const fingerprint = await accessFingerprint(page);
  const serverFunctionCalls: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/_app/")) serverFunctionCalls.push(request.url());
  });
  const countdown = page.getByTestId("access-expiry").getByTestId("countdown");
  await expect(countdown).toContainText("left");
  const first = await countdown.textContent();
  await expect.poll(async () => countdown.textContent(), { timeout: 5000 }).not.toBe(first);
  const second = await countdown.textContent();
  await expect.poll(async () => countdown.textContent(), { timeout: 5000 }).not.toBe(second);
  expect(serverFunctionCalls, "ticking calls no server function").toEqual([]);
  expect(await refreshCalls(page), "ticking refreshes nothing").toBe(refreshesBefore);
  expect(await accessFingerprint(page)).toBe(fingerprint);
});

test("E7: the signed-in pages and the 403 page hydrate without a warning", async ({ page }) => {
  // The fixture (fixtures.ts) fails the test on any hydration warning or console error.
  await signIn(page, /Ada Admin/);
  for (const path of ["/dashboard", "/sessions", "/organization/settings"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    await waitForHydration(page);
  }
  await page.context().clearCookies();
  await signIn(page, /Max Member/);
  const forbidden = await page.goto("/organization/settings");
  expect(forbidden?.status()).toBe(403);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Access denied");
});

test("the dashboard's claims stay as the server wrote them, and come as rows when reached in the app", async ({ page }) => {
  await signIn(page, /Ada Admin/);
  await waitForHydration(page);
  const subject = () => page.getByRole("row", { name: /^sub / }).first();
  await expect(subject()).toContainText("usr_100000000000000001");
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  const claimCalls: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/_app/claims") claimCalls.push(request.url());
  });
  const main = page.getByRole("navigation", { name: "Main" });
  await main.getByRole("link", { name: "Session", exact: true }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await main.getByRole("link", { name: "Dashboard" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(subject()).toContainText("usr_100000000000000001");
  await expect(page.getByRole("row", { name: /^at_hash / })).toHaveCount(1);
  expect(claimCalls, "the rows were fetched once, by the browser").toHaveLength(1);
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker), "no reload").toBe(7);
});

test("validate and refresh update the panel in place", async ({ page }) => {
  await signIn(page, /Ada Admin/, "/sessions");
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  await page.getByRole("button", { name: "Validate token" }).click();
  await expect(page.getByTestId("validate-result")).toContainText("The access token is valid.");
  await expect(page.getByTestId("validate-result")).toContainText("usr_100000000000000001");
  const before = await accessFingerprint(page);
  await page.getByRole("button", { name: "Refresh token" }).click();
  await expect(page.getByTestId("refresh-result")).toContainText("Refreshed");
  await expect.poll(() => accessFingerprint(page)).not.toBe(before);
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
});

test("moving between signed-in pages does not reload the document", async ({ page }) => {
  await signIn(page, /Ada Admin/);
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  await page.getByRole("link", { name: "Session panel" }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Session");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Ada Admin");
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);
});

test("client-side navigation to settings shows a member the 403 page", async ({ page }) => {
  await signIn(page, /Max Member/);
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 3));
  await page.getByRole("link", { name: "Organization settings" }).click();
  await expect(page).toHaveURL(/\/organization\/settings$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Access denied");
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(3);
});

test("a lazily loaded page preloads exactly its own chunks, and the browser fetches each once", async ({ page }) => {
  await signIn(page, /Ada Admin/);
  const manifest: Record<string, string[]> = await (await page.request.get("/pkg/__wasm_split_manifest.json")).json();
  const pages: [string, string][] = [
    ["/dashboard", "dashboard_route"],
    ["/sessions", "sessions_route"],
    ["/organization/settings", "settings_route"],
    ["/about", "about_route"],
  ];
  for (const [path, route] of pages) {
    const split = Object.keys(manifest).find((key) => key.startsWith(`__${route}_view_`));
    expect(split, `${route} in the manifest`).toBeTruthy();
    const expected = manifest[split!].map((chunk) => `/pkg/${chunk}.wasm`).sort();
    const html = await (await page.request.get(path)).text();
    const head = html.slice(0, html.indexOf("</head>"));
    const preloaded = [...head.matchAll(/<link rel="preload" href="([^"]+\.wasm)"/g)].map((m) => m[1]);
    // Once each: Leptos' own copies of these tags are not written as well.
    expect(preloaded.filter((href) => !href.includes("leptos-scalekit")).sort(), path).toEqual(expected);
    expect(head.match(/rel="modulepreload" href="\/pkg\/__wasm_split[^"]*\.js"/g), path).toHaveLength(1);

    await page.goto(path);
    await waitForHydration(page);
    // A preload the page's own fetch did not match would show as a second download of the chunk.
    const downloads = await page.evaluate(() =>
      performance
        .getEntriesByType("resource")
        .map((entry) => new URL(entry.name).pathname)
        .filter((name) => name.endsWith(".wasm")),
    );
    for (const chunk of expected) {
      expect(downloads.filter((name) => name === chunk), `${path}: ${chunk}`).toHaveLength(1);
    }
    // The main module's preload too (`crossorigin="anonymous"`, as the loader's fetch).
    expect(downloads.filter((name) => name === "/pkg/leptos-scalekit.wasm"), path).toHaveLength(1);
  }
  // A page in the first bundle (the 404 page) preloads no chunk.
  const missing = await page.request.get("/no/such/page");
  expect(missing.status()).toBe(404);
  expect(await missing.text()).not.toMatch(/href="\/pkg\/(chunk_|split_)[^"]*\.wasm"/);
});
