import { test, expect } from "./fixtures";

// "Create an account" (prompt=create), with JavaScript on and off: the development provider's
// sign-up form makes a new member, who lands on the dashboard signed in, with the member's role.

test("a new person creates an account and lands signed in as a member", async ({ page }) => {
  await page.goto("/login?next=/dashboard");
  await page.getByRole("button", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Create your account");
  const email = `nia.${test.info().project.name}.${Date.now()}@example.com`;
  await page.getByLabel("Name").fill("Nia New");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Nia");
  await expect(page.getByRole("list", { name: "Roles" })).toContainText("member");
  const settings = await page.goto("/organization/settings");
  expect(settings?.status()).toBe(403);
});
