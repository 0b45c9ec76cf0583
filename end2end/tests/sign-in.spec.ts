import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";
import { choosePersona } from "./helpers";

// Sign-in, guards and sign-out through the development identity provider, run with JavaScript on
// and off: the login and logout buttons are plain form posts, so both must behave the same.

async function chooseAtProvider(page: Page, persona: RegExp) {
  await choosePersona(page, persona);
}

test("a deep link survives sign-in and the first page after it is signed in (L11, L12)", async ({ page }) => {
  await page.goto("/organization/settings?tab=clients");
  await expect(page).toHaveURL(/\/login\?next=%2Forganization%2Fsettings%3Ftab%3Dclients$|\/login\?next=\/organization\/settings%3Ftab%3Dclients$/);
  await page.getByRole("button", { name: "Sign in" }).click();
  await chooseAtProvider(page, /Ada Admin/);
  await expect(page).toHaveURL(/\/organization\/settings\?tab=clients$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Organization settings");
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText("Ada Admin");
});

test("a member gets the 403 page for organization settings", async ({ page }) => {
  await page.goto("/login?next=/dashboard");
  await page.getByRole("button", { name: "Sign in" }).click();
  await chooseAtProvider(page, /Max Member/);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome, Max Member");
  const denied = await page.goto("/organization/settings");
  expect(denied?.status()).toBe(403);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Access denied");
});

test("sign-out goes through the provider, returns home, and the dashboard is gone (O4, O6, O7)", async ({ page }) => {
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in" }).click();
  await chooseAtProvider(page, /Ada Admin/);
  await expect(page).toHaveURL(/\/dashboard$/);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/\?state=/);
  await expect(nav.getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.goBack();
  await expect(page.getByRole("heading", { level: 1 })).not.toHaveText(/Welcome/);
  const dashboard = await page.goto("/dashboard");
  expect(dashboard?.url()).toMatch(/\/login\?next=/);
});

test("GET /logout asks before signing out (O1)", async ({ page }) => {
  const response = await page.goto("/logout");
  expect(response?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign out?");
});

test("security headers on pages, the callback and sign-out (H1, H3, H4, H5, H8)", async ({ page }) => {
  // A page's policy names the nonce its scripts carry; a response that renders no page (the
  // callback's redirect) gets the same policy without one, so no inline script runs in it.
  const expectHardened = (headers: Record<string, string>, what: string, nonce?: "page" | "none") => {
    const policy = headers["content-security-policy"];
    expect(policy, what).toContain("frame-ancestors 'none'");
    expect(policy, what).toMatch(/script-src 'self'( 'nonce-[A-Za-z0-9_-]{22}')? 'wasm-unsafe-eval'/);
    if (nonce === "page") expect(policy, what).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{22}' 'wasm-unsafe-eval'/);
    if (nonce === "none") expect(policy, what).not.toContain("'nonce-");
    expect(headers["x-frame-options"], what).toBe("DENY");
    expect(headers["x-content-type-options"], what).toBe("nosniff");
    expect(headers["referrer-policy"], what).toBeTruthy();
    expect(headers["cache-control"], what).toBe("no-store");
  };
  const home = await page.goto("/");
  expectHardened(home!.headers(), "/", "page");
  await page.goto("/login?next=/dashboard");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: /Ada Admin/ }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose an organization");
  const [callback] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/auth/callback")),
    page.getByRole("button", { name: /Acme Development/ }).click(),
  ]);
  expect(callback.status()).toBe(303);
  expectHardened(callback.headers(), "callback", "none");
  expect(callback.headers()["referrer-policy"]).toBe("no-referrer");
  for (const path of ["/dashboard", "/organization/settings"]) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(200);
    expectHardened(response!.headers(), path, "page");
  }
  const [logout] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/_app/logout")),
    page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click(),
  ]);
  expect(logout.status()).toBe(303);
  const logoutHeaders = await logout.allHeaders();
  expect(logoutHeaders["clear-site-data"]).toBe('"cookies", "storage"');
  expectHardened(logoutHeaders, "logout");
});
