import { test, expect } from "./fixtures";
import { signIn } from "./helpers";

// Switching organization (prompt=select_account), with JavaScript on and off: Ada is the admin of
// Acme and a member of Globex; the settings page follows the organization the session is for.

test("switching organization gives a fresh session whose roles the settings page follows", async ({ page }) => {
  await signIn(page, /Ada Admin/, "/organization/settings");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByTestId("session-organization")).toHaveText("org_100000000000000001");

  await nav.getByRole("button", { name: "Switch organization" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose an organization");
  await page.getByRole("button", { name: /Globex Testing/ }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(nav.getByTestId("session-organization")).toHaveText("org_100000000000000002");
  await expect(page.getByRole("list", { name: "Roles" })).toContainText("member");
  const settings = await page.goto("/organization/settings");
  expect(settings?.status()).toBe(403);

  await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Switch organization" }).click();
  await page.getByRole("button", { name: /Acme Development/ }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  const again = await page.goto("/organization/settings");
  expect(again?.status()).toBe(200);
});
