import { test, expect } from "./fixtures";
import { accessFingerprint, control, signIn } from "./helpers";

// The signed-in pages, with JavaScript on and off.

test.afterEach(async ({ page }) => {
  await control(page, { reset: "true" });
});

test("the dashboard shows the user, badges, session and claims but no token", async ({ page }) => {
  await signIn(page, /Ada Admin/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Ada Admin");
  await expect(page.getByText("ada.admin@example.com").first()).toBeVisible();
  await expect(page.getByRole("list", { name: "Permissions" })).toContainText("organization:settings");
  await expect(page.getByRole("list", { name: "Roles" })).toContainText("admin");
  await expect(page.locator("caption", { hasText: "ID token" })).toBeVisible();
  await expect(page.locator("caption", { hasText: "Access token" })).toBeVisible();
  await expect(page.getByRole("row", { name: /^sub / }).first()).toContainText("usr_100000000000000001");
  expect(await page.content()).not.toContain("eyJ");
  await expect(page.getByText("which you have.")).toBeVisible();
});

test("a member's dashboard says the settings need a permission it lacks", async ({ page }) => {
  await signIn(page, /Max Member/);
  await expect(page.getByText("which you do not have.")).toBeVisible();
});

test("the home page sends a signed-in user to the dashboard", async ({ page }) => {
  await signIn(page, /Ada Admin/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/dashboard$/);
});

test("an expired access token is refreshed on the server without the user noticing", async ({ page }) => {
  await control(page, { access_token_ttl: "2" });
  await signIn(page, /Ada Admin/, "/sessions");
  const before = await accessFingerprint(page);
  await page.waitForTimeout(2500);
  const again = await page.goto("/sessions");
  expect(again?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Session");
  expect(await accessFingerprint(page)).not.toBe(before);
});

test("provider down with an expired token: a friendly 503 page, then recovery", async ({ page }) => {
  await control(page, { access_token_ttl: "2" });
  await signIn(page, /Ada Admin/);
  await control(page, { outage: "true" });
  await page.waitForTimeout(2500);
  const down = await page.goto("/dashboard");
  expect(down?.status()).toBe(503);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("The identity provider is unreachable");
  await control(page, { outage: "false" });
  // The app remembers the outage for 3 s (docs/testing.md, refresh failure memory) so that
  // every request of an expiring session does not ask the provider again at once.
  await page.waitForTimeout(3100);
  const back = await page.goto("/dashboard");
  expect(back?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Ada Admin");
});
