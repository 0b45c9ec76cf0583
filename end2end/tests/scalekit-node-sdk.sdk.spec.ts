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

/** Signs `persona` in through the SDK's URL with login_hint (no page): a new provider session. */
async function signIn(scalekit: ScalekitClient, baseURL: string, persona: string) {
  const redirectUri = `${baseURL}/auth/callback`;
  const authUrl = scalekit.getAuthorizationUrl(redirectUri, {
    scopes: ["openid", "profile", "email", "offline_access"],
    state: "sdk-sessions",
    nonce: "sdk-sessions",
    loginHint: persona,
  });
  const authorize = await fetch(authUrl, { redirect: "manual", headers: { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" } });
  const code = new URL(authorize.headers.get("location")!).searchParams.get("code")!;
  const result = await scalekit.authenticateWithCode(code, redirectUri);
  const claims = JSON.parse(Buffer.from(result.idToken.split(".")[1], "base64url").toString());
  return { result, sid: claims.sid as string, userId: claims.sub as string };
}

test("the Node SDK's session methods list, read and revoke the provider's sessions over gRPC", async ({ baseURL }) => {
  const scalekit = new ScalekitClient(`${baseURL}/dev-idp`, clientId, clientSecret);
  const first = await signIn(scalekit, baseURL!, "member");
  const second = await signIn(scalekit, baseURL!, "member");
  expect(first.userId).toMatch(/^usr_/);
  expect(second.sid).not.toBe(first.sid);

  const listed = await scalekit.session.getUserSessions(first.userId, { filter: { status: ["active"] }, pageSize: 50 });
  const sids = listed.sessions.map((s) => s.sessionId);
  expect(sids).toContain(first.sid);
  expect(sids).toContain(second.sid);
  expect(listed.totalSize).toBeGreaterThanOrEqual(2);
  expect(listed.sessions.every((s) => s.status === "ACTIVE" && s.userId === first.userId)).toBe(true);

  const one = await scalekit.session.getSession(first.sid);
  expect(one.sessionId).toBe(first.sid);
  expect(one.device?.browser).toBe("Firefox");
  expect(one.authenticatedClients.map((c) => c.clientId)).toContain(clientId);
  expect(Number(one.createdAt!.seconds)).toBeGreaterThan(0);
  expect(one.logoutAt).toBeUndefined();

  const revoked = await scalekit.session.revokeSession(first.sid);
  expect(revoked.revokedSession?.status).toBe("REVOKED");
  expect(revoked.revokedSession?.logoutAt).toBeDefined();
  await expect(scalekit.refreshAccessToken(first.result.refreshToken)).rejects.toThrow();
  const afterRevoke = await scalekit.session.getUserSessions(first.userId, { filter: { status: ["revoked"] }, pageSize: 50 });
  expect(afterRevoke.sessions.map((s) => s.sessionId)).toContain(first.sid);

  const all = await scalekit.session.revokeAllUserSessions(first.userId);
  expect(all.revokedSessions.map((s) => s.sessionId)).toContain(second.sid);
  expect(all.totalRevoked).toBe(all.revokedSessions.length);
  expect((await scalekit.session.getSession(second.sid)).status).toBe("REVOKED");

  await expect(scalekit.session.getSession("ses_999999999")).rejects.toThrow(/not found/);
  await expect(scalekit.session.getSession("not-a-session")).rejects.toThrow(/session_id/);
});
