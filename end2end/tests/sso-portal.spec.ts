import { test, expect } from "./fixtures";
import { signIn } from "./helpers";

// Issue 21's portal and issue 20's SSO routing, with JavaScript on and off: the admin opens the
// customer admin portal from the settings page, gives the organization's SSO connection a new
// domain, and "Sign in with SSO" by an email at that domain then goes through that connection.

const CONNECTION = "conn_200000000000000001";

test("an admin's portal change of the SSO domain routes the next sign-in", async ({ page, context }) => {
  await signIn(page, /Ada Admin/, "/organization/settings");
  const [portal] = await Promise.all([
    context.waitForEvent("page"),
    page.getByRole("button", { name: "Configure SSO and directory sync" }).click(),
  ]);
  await expect(portal.getByRole("heading", { level: 1 })).toHaveText("Admin portal");
  await expect(portal.getByTestId(`connection-${CONNECTION}`)).toContainText("OKTA");

  const domain = `acme-${test.info().project.name}-${Date.now()}.test`;
  await portal.getByLabel(/Email domains/).fill(`example.com, ${domain}`);
  await portal.getByRole("button", { name: "Save connection" }).click();
  await expect(portal.getByRole("status")).toContainText(`Saved ${CONNECTION}`);
  await expect(portal.getByLabel(/Email domains/)).toHaveValue(`example.com, ${domain}`);
  await portal.close();

  // The link was single use: opening the portal again needs a new one.
  await page.goto("/organization/settings");
  await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/\?state=/);
  await page.goto("/login?next=/dashboard");
  await page.getByLabel("Work email or company domain").fill(`ada@${domain}`);
  await page.getByRole("button", { name: "Continue with SSO" }).click();
  await expect(page.getByTestId("route")).toContainText(`connection ${CONNECTION}`);
  await page.getByRole("button", { name: /Ada Admin/ }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
});

test("the settings page lists the organization's recent webhook events", async ({ page }) => {
  // The development provider sends a signed user.login for this sign-in to the app's endpoint.
  await signIn(page, /Ada Admin/, "/organization/settings");
  await expect
    .poll(
      async () => {
        await page.goto("/organization/settings");
        return (await page.getByTestId("event-list").textContent({ timeout: 1000 }).catch(() => "")) ?? "";
      },
      { timeout: 10_000 },
    )
    .toContain("user.login");
  await expect(page.getByTestId("event-list")).toContainText("usr_100000000000000001");
});

test("sign in with SSO refuses what is not an email or a domain", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Work email or company domain").fill("not a domain");
  await page.getByRole("button", { name: "Continue with SSO" }).click();
  await expect(page).toHaveURL(/\/login\?error=invalid_request/);
  await expect(page.getByRole("alert")).toContainText("could not be used");
});

test("a member sees no portal button and the portal link is refused with 403", async ({ page }) => {
  await signIn(page, /Max Member/, "/dashboard");
  const settings = await page.goto("/organization/settings");
  expect(settings?.status()).toBe(403);
  await expect(page.getByRole("button", { name: "Configure SSO and directory sync" })).toHaveCount(0);
  const origin = new URL(page.url()).origin;
  const refused = await page.request.post("/_app/portal_link", {
    headers: { origin, "sec-fetch-site": "same-origin", accept: "application/json" },
  });
  expect(refused.status()).toBe(403);
});
