import { test, expect } from "./fixtures";

// The development identity provider's persona picker is a plain form: it must work with
// JavaScript off and on, and send the browser back to the registered redirect URI with a code.
const clientId = "skc_dev_leptos_scalekit";

function authorizeUrl(baseURL: string, extra: Record<string, string> = {}) {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: `${baseURL}/auth/callback`,
    scope: "openid profile email offline_access",
    state: "e2e-state",
    nonce: "e2e-nonce",
    // A well-formed S256 challenge; this test never exchanges the code.
    code_challenge: "x7Yi2c2XG6xQc1hJ8kY9v3cKQ0m1jv6N9pVvY0bq7Hk",
    code_challenge_method: "S256",
    ...extra,
  });
  return `/dev-idp/oauth/authorize?${params}`;
}

test("the persona picker signs a persona in and returns a code with the state", async ({ page, baseURL }) => {
  const picker = await page.goto(authorizeUrl(baseURL!));
  expect(picker?.status()).toBe(200);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Choose who signs in");
  await expect(page.getByRole("button", { name: /Ada Admin/ })).toContainText("organization:settings");

  // The app's callback route arrives with the sign-in work; here only the redirect matters.
  const [callback] = await Promise.all([
    page.waitForRequest((request) => request.url().startsWith(`${baseURL}/auth/callback`)),
    page.getByRole("button", { name: /Max Member/ }).click(),
  ]);
  const url = new URL(callback.url());
  expect(url.searchParams.get("state")).toBe("e2e-state");
  expect(url.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
});

test("an unregistered redirect URI gets an error page, not a redirect", async ({ page }) => {
  const response = await page.goto(
    authorizeUrl("https://evil.example").replace(
      encodeURIComponent("https://evil.example/auth/callback"),
      encodeURIComponent("https://evil.example/cb"),
    ),
  );
  expect(response?.status()).toBe(400);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign-in request refused");
  expect(new URL(page.url()).pathname).toBe("/dev-idp/oauth/authorize");
});
