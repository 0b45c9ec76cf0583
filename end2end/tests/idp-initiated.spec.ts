import { test, expect } from "./fixtures";

// IdP-initiated login (issue 20), with JavaScript on and off: the development provider's
// "start from the identity provider" page stands in for an employee's Okta dashboard; the app
// checks its signed token and leads to its login page with the token's hints, whose Sign in (a
// click, so that no other site can sign anyone in) lands on the relay state.

test("starting from the identity provider's page, one click on Sign in lands on the relay state", async ({ page }) => {
  await page.goto("/dev-idp/idp-initiated");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Start from the identity provider");
  const form = page.locator("form").filter({ hasText: "Ada Admin" });
  await form.getByLabel(/relay state/).fill("/sessions");
  await form.getByRole("button", { name: /Ada Admin/ }).click();
  await expect(page).toHaveURL(/\/login\?next=%2Fsessions&connection_id=/);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Session");
});

test("a malformed IdP-initiated link shows the sign-in failure page with 400", async ({ page }) => {
  const response = await page.goto("/auth/initiate-login?idp_initiated_login=not-a-jwt");
  expect(response?.status()).toBe(400);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign-in failed");
});
