import { test, expect } from "./fixtures";
import type { Page } from "@playwright/test";

// Sign-in, guards and sign-out through the development identity provider, run with JavaScript on
// and off: the login and logout buttons are plain form posts, so both must behave the same.

async function chooseAtProvider(page: Page, persona: RegExp) {
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose who signs in");
  await page.getByRole("button", { name: persona }).click();
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
