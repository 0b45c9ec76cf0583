import { test, expect, waitForHydration } from "./fixtures";

test("moving between pages does not reload the document", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  // A marker on window survives client-side navigation and is lost on a full reload.
  await page.evaluate(() => ((window as any).__sameDocument = true));

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "How it works" }).click();
  await expect(page).toHaveURL(/\/about$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("How it works");
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);

  await page.getByRole("link", { name: "Back to home" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Enterprise sign-in for Leptos, with Scalekit");
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test("client-side navigation to an unknown page shows the not-found page", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.evaluate(() => {
    // Navigate through the router, as an in-app link would.
    const link = document.createElement("a");
    link.href = "/no/such/page";
    link.textContent = "broken";
    document.querySelector("main")!.appendChild(link);
  });
  await page.getByRole("link", { name: "broken" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
});
