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

// The development provider's public webhook secret (scalekit_dev_idp::settings::DEV_WEBHOOK_SECRET):
// it signs the app's webhooks with it when SCALEKIT_WEBHOOK_SECRET is unset, as in the test command.
const devWebhookSecret = "whsec_bGVwdG9zLXNjYWxla2l0LWRldi1wcm92aWRlci13ZWJob29rcy1vbmx5";

/** The provider's webhook log: its deliveries and the last request it signed, as sent. */
async function webhooksShown(baseURL: string) {
  return (await (await fetch(`${baseURL}/dev-idp/_control/webhooks`)).json()) as {
    deliveries: { id: string; type: string; status: number | null }[];
    last_signed: { headers: Record<string, string>; body: string } | null;
  };
}

// The request is taken from /_control/webhooks as it was sent to the app, byte for byte: what the
// SDK verifies is exactly what the app received, with no listener of the test's own.
test("w1-w4: a webhook the provider signed verifies with verifyWebhookPayload; a changed body, another secret or an old timestamp does not", async ({ baseURL }) => {
  const scalekit = new ScalekitClient(`${baseURL}/dev-idp`, clientId, clientSecret);
  const started = Math.floor(Date.now() / 1000);
  await signIn(scalekit, baseURL!, "member"); // a user.login, signed now

  let last: { headers: Record<string, string>; body: string } | null = null;
  await expect
    .poll(async () => {
      last = (await webhooksShown(baseURL!)).last_signed;
      return last ? Number(last.headers["webhook-timestamp"]) >= started : false;
    })
    .toBe(true);
  const { headers, body } = last!;
  expect(scalekit.verifyWebhookPayload(devWebhookSecret, headers, body)).toBe(true);
  const event = JSON.parse(body);
  expect(event.id).toBe(headers["webhook-id"]);
  expect(event.spec_version).toBe("1");
  expect(event.type).toMatch(/^user\./);

  expect(() => scalekit.verifyWebhookPayload(devWebhookSecret, headers, body.replace(event.id, `${event.id}0`))).toThrow(/Invalid Signature/);
  const other = `whsec_${Buffer.from("a-secret-that-is-not-the-providers").toString("base64")}`;
  expect(() => scalekit.verifyWebhookPayload(other, headers, body)).toThrow(/Invalid Signature/);
  const old = { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) - 600) };
  expect(() => scalekit.verifyWebhookPayload(devWebhookSecret, old, body)).toThrow();

  // The app verified the same delivery with its own verifier.
  await expect
    .poll(async () => (await webhooksShown(baseURL!)).deliveries.find((d) => d.id === headers["webhook-id"])?.status)
    .toBe(200);
});

test("getIdpInitiatedLoginClaims accepts the provider's IdP-initiated token, and routed URLs sign in through the connection", async ({ baseURL }) => {
  const envUrl = `${baseURL}/dev-idp`;
  const scalekit = new ScalekitClient(envUrl, clientId, clientSecret);
  const started = await fetch(`${envUrl}/idp-initiated`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ persona: "admin", client_id: clientId, relay_state: "/sessions" }),
  });
  expect(started.status).toBe(303);
  const target = new URL(started.headers.get("location")!);
  expect(target.pathname).toBe("/auth/initiate-login");
  const token = target.searchParams.get("idp_initiated_login")!;
  const claims = await scalekit.getIdpInitiatedLoginClaims(token, { issuer: envUrl, audience: clientId });
  expect(claims.connection_id).toBe("conn_200000000000000001");
  expect(claims.organization_id).toBe("org_100000000000000001");
  expect(claims.login_hint).toBe("ada.admin@example.com");
  expect(claims.relay_state).toBe("/sessions");
  await expect(scalekit.getIdpInitiatedLoginClaims(`${token.slice(0, -4)}AAAA`)).rejects.toThrow();

  // The SDK's own URL with the claims, as its docs show, plus a domain-routed one.
  const redirectUri = `${baseURL}/auth/callback`;
  for (const options of [
    { connectionId: claims.connection_id, organizationId: claims.organization_id, loginHint: claims.login_hint },
    { domainHint: "example.com", loginHint: "admin" },
  ]) {
    const url = scalekit.getAuthorizationUrl(redirectUri, { scopes: ["openid", "email"], state: "sdk-route", ...options });
    const authorize = await fetch(url, { redirect: "manual" });
    expect(authorize.status).toBe(302);
    const code = new URL(authorize.headers.get("location")!).searchParams.get("code")!;
    const result = await scalekit.authenticateWithCode(code, redirectUri);
    const idClaims = JSON.parse(Buffer.from(result.idToken.split(".")[1], "base64url").toString());
    expect(idClaims.amr).toEqual(["conn_200000000000000001"]);
  }
});
