import { test, expect, waitForHydration } from "./fixtures";
import { control, signIn } from "./helpers";

// "Sign out everywhere" on the session panel, with JavaScript on and off: two browsers (contexts)
// signed in as the same user; signing out everywhere in one signs the other out on its next page,
// and so does signing out just the other session from the list.

test.afterEach(async ({ page }) => {
  await control(page, { reset: "true" });
});

test("sign out everywhere in one browser signs the other out (O8)", async ({ page, browser, baseURL, javaScriptEnabled }) => {
  const elsewhere = await browser.newContext({ baseURL, javaScriptEnabled });
  try {
    const other = await elsewhere.newPage();
    await signIn(other, /Ada Admin/);

    await signIn(page, /Ada Admin/, "/sessions");
    if (javaScriptEnabled) await waitForHydration(page);
    const list = page.getByTestId("user-sessions");
    await expect(list).toBeVisible();
    await expect(list.locator('tr[data-current="true"]')).toHaveCount(1);
    await expect(list.locator('tr[data-current="true"]')).toContainText("This session");
    expect(await list.locator('tr[data-current="false"]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.content()).not.toContain("eyJ");

    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await expect(page).toHaveURL(/\/login$/);

    await other.goto("/dashboard");
    await expect(other).toHaveURL(/\/login\?next=/);
  } finally {
    await elsewhere.close();
  }
});

test("signing out the other session from the list ends that one only (O8)", async ({ page, browser, baseURL, javaScriptEnabled }) => {
  // Earlier tests leave admin sessions behind at the provider: start with none.
  await control(page, { end_sessions: "admin" });
  const elsewhere = await browser.newContext({ baseURL, javaScriptEnabled });
  try {
    const other = await elsewhere.newPage();
    await signIn(other, /Ada Admin/);

    await signIn(page, /Ada Admin/, "/sessions");
    if (javaScriptEnabled) await waitForHydration(page);
    const list = page.getByTestId("user-sessions");
    await expect(list.locator('tr[data-testid="user-session"]')).toHaveCount(2);
    await list.locator('tr[data-current="false"]').getByRole("button", { name: /^Sign out/ }).click();
    await expect(list.locator('tr[data-testid="user-session"]')).toHaveCount(1);
    await expect(list.locator('tr[data-current="true"]')).toHaveCount(1);

    await other.goto("/dashboard");
    await expect(other).toHaveURL(/\/login\?next=/);
    const still = await page.goto("/dashboard");
    expect(still?.status()).toBe(200);
  } finally {
    await elsewhere.close();
  }
});
