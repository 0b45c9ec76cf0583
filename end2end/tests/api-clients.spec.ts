import { test, expect } from "./fixtures";
import { signIn } from "./helpers";

// Issue 6's end-to-end proof, with JavaScript on and off: the admin creates an API client in the
// settings page, its secret gets a token from the development provider, the token calls the API
// (and is refused for a scope it lacks), and once the client is deleted the secret is refused.

test("an API client created in settings can call the API until it is deleted", async ({ page }) => {
  await signIn(page, /Ada Admin/, "/organization/settings");
  const name = `e2e-${Date.now()}`;
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Create client" }).click();
  const secret = (await page.getByTestId("new-secret").textContent())!.trim();
  const clientId = (await page.getByTestId("new-client-id").textContent())!.trim();
  expect(secret.length).toBeGreaterThan(20);
  await expect(page.getByTestId("new-client")).toContainText("shown only this once");
  await expect(page.getByTestId("client-list")).toContainText(clientId);

  const token = await page.request.post("/dev-idp/oauth/token", {
    form: { grant_type: "client_credentials", client_id: clientId, client_secret: secret },
  });
  expect(token.status()).toBe(200);
  const accessToken = (await token.json()).access_token as string;
  const auth = { authorization: `Bearer ${accessToken}` };
  const list = await page.request.get("/api/v1/deployments", { headers: auth });
  expect(list.status()).toBe(200);
  const denied = await page.request.post("/api/v1/deployments", { headers: auth, data: { name: "web" } });
  expect(denied.status()).toBe(403);
  expect(denied.headers()["www-authenticate"]).toContain('error="insufficient_scope"');

  // Reloading never shows the secret again.
  await page.goto("/organization/settings");
  await expect(page.getByTestId("new-secret")).toHaveCount(0);

  await page.getByRole("button", { name: `Delete ${name}` }).click();
  await expect(page.getByTestId("client-list").or(page.getByTestId("no-clients"))).not.toContainText(clientId);
  const refused = await page.request.post("/dev-idp/oauth/token", {
    form: { grant_type: "client_credentials", client_id: clientId, client_secret: secret },
  });
  expect(refused.status()).toBe(401);
});

test("a member cannot open the API-client settings", async ({ page }) => {
  await signIn(page, /Max Member/);
  const denied = await page.goto("/organization/settings");
  expect(denied?.status()).toBe(403);
});
