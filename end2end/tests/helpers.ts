import { expect } from "./fixtures";
import type { Page } from "@playwright/test";

/** Signs `persona` in through /login and the development provider's picker. */
export async function signIn(page: Page, persona: RegExp, next = "/dashboard") {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await choosePersona(page, persona);
  await expect(page).toHaveURL(new RegExp(`${next.replace(/[?]/g, "\\?")}$`));
}

/** On the provider's persona picker: picks `persona`, then `organization` if the provider asks
 * (Ada belongs to two organizations; Acme, where she is the admin, by default). */
export async function choosePersona(page: Page, persona: RegExp, organization = /Acme Development/) {
  const heading = page.getByRole("heading", { level: 1 });
  await expect(heading).toHaveText("Choose who signs in");
  await page.getByRole("button", { name: persona }).click();
  await expect(heading).not.toHaveText("Choose who signs in");
  if ((await heading.textContent())?.trim() === "Choose an organization") {
    await page.getByRole("button", { name: organization }).click();
  }
}

/** Sets the development provider's test controls (shared by the whole server: reset afterwards). */
export async function control(page: Page, form: Record<string, string>) {
  const response = await page.request.post("/dev-idp/_control", { form });
  expect(response.ok()).toBeTruthy();
}

/** The access token's fingerprint as the session panel shows it. */
export async function accessFingerprint(page: Page) {
  return page.getByTestId("access-token").locator(".fingerprint").textContent();
}
