import { test, expect } from "./fixtures";
import { accessFingerprint, signIn } from "./helpers";

test("without JavaScript the refresh button posts a form and the page shows the new token", async ({ page }) => {
  await signIn(page, /Ada Admin/, "/sessions");
  const before = await accessFingerprint(page);
  await page.getByRole("button", { name: "Refresh token" }).click();
  // Leptos sends a plain form post back to the page it came from.
  await expect(page).toHaveURL(/\/sessions\??$/);
  expect(await accessFingerprint(page)).not.toBe(before);
});
