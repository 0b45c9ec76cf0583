import { test, expect, waitForHydration } from "./fixtures";
import { accessFingerprint, control, signIn } from "./helpers";

test.afterEach(async ({ page }) => {
  await control(page, { reset: "true" });
});

test("the countdown runs in the browser", async ({ page }) => {
  await signIn(page, /Ada Admin/, "/sessions");
  await waitForHydration(page);
  const countdown = page.getByTestId("access-expiry").getByTestId("countdown");
  await expect(countdown).toContainText("left");
  const first = await countdown.textContent();
  await expect.poll(async () => countdown.textContent(), { timeout: 5000 }).not.toBe(first);
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
