import { test, expect } from "@playwright/test";
import { ScalekitClient } from "@scalekit-sdk/node";
import { createHash, randomBytes } from "node:crypto";

// Scalekit's own Node SDK, from npm, against the development identity provider: the provider is
// only useful if Scalekit's SDKs accept it as they accept Scalekit. No browser: HTTP only.
const clientId = "skc_dev_leptos_scalekit";
const clientSecret = "dev-only-secret-never-used-with-scalekit";

test("the Node SDK signs in, validates, refreshes, logs out and gets client tokens", async ({ baseURL }) => {
  const envUrl = `${baseURL}/dev-idp`;
  const redirectUri = `${baseURL}/auth/callback`;
  const scalekit = new ScalekitClient(envUrl, clientId, clientSecret);

  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authUrl = scalekit.getAuthorizationUrl(redirectUri, {
    scopes: ["openid", "profile", "email", "offline_access"],
    state: "sdk-state",
    nonce: "sdk-nonce",
    loginHint: "admin",
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
  });
  expect(authUrl.startsWith(`${envUrl}/oauth/authorize?`)).toBe(true);

  // login_hint signs the admin in without a page: the answer is a redirect with the code.
  const authorize = await fetch(authUrl, { redirect: "manual" });
  expect(authorize.status).toBe(302);
  const callback = new URL(authorize.headers.get("location")!);
  expect(callback.searchParams.get("state")).toBe("sdk-state");
  const code = callback.searchParams.get("code")!;

  const result = await scalekit.authenticateWithCode(code, redirectUri, { codeVerifier: verifier });
  expect(result.user.email).toBe("ada.admin@example.com");
  expect(result.user.name).toBe("Ada Admin");
  expect(result.refreshToken).toMatch(/^rt_/);
  expect(result.expiresIn).toBe(299);

  const claims: any = await scalekit.validateToken(result.accessToken, {
    issuer: envUrl,
    audience: [clientId],
  });
  expect(claims.permissions).toContain("organization:settings");
  expect(await scalekit.validateAccessToken(result.accessToken, { issuer: envUrl, audience: [clientId] })).toBe(true);
  expect(await scalekit.validateAccessToken(result.accessToken, { issuer: "https://other.example" })).toBe(false);

  const refreshed = await scalekit.refreshAccessToken(result.refreshToken);
  expect(refreshed.refreshToken).not.toBe(result.refreshToken);
  await expect(scalekit.refreshAccessToken(result.refreshToken)).rejects.toThrow();

  const logoutUrl = scalekit.getLogoutUrl({
    idTokenHint: result.idToken,
    postLogoutRedirectUri: baseURL!,
    state: "sdk-bye",
  });
  const logout = await fetch(logoutUrl, { redirect: "manual" });
  expect(logout.status).toBe(302);
  expect(new URL(logout.headers.get("location")!).searchParams.get("state")).toBe("sdk-bye");

  // The environment client's own token (what the SDK uses for management calls).
  const managementToken = await scalekit.generateClientToken(clientId, clientSecret);
  expect(managementToken.split(".")).toHaveLength(3);
});
