import { test, expect, waitForHydration } from "./fixtures";
import { signIn } from "./helpers";

// The app in production behind nginx with TLS (scripts/deploy_check.sh starts all of it and
// sets PROXY_BASE_URL): a real sign-in through the proxy, against the development provider
// standing in for the Scalekit environment behind the same proxy.

test("a sign-in through the proxy sets __Host- cookies and lands on the dashboard", async ({ page, context }) => {
  const first = await page.goto("/");
  expect(first?.headers()["strict-transport-security"]).toMatch(/^max-age=\d+/);
  await signIn(page, /Ada Admin/);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Ada");
  const session = (await context.cookies()).find((cookie) => cookie.name === "__Host-skit_session");
  expect(session, "the session cookie").toBeDefined();
  expect(session?.secure).toBe(true);
  expect(session?.httpOnly).toBe(true);
  expect(session?.path).toBe("/");
  expect(session?.sameSite).toBe("Lax");
  // Signed-in pages and the permission gate behave as without the proxy.
  const settings = await page.goto("/organization/settings");
  expect(settings?.status()).toBe(200);
  expect(settings?.headers()["cache-control"]).toContain("no-store");
});

test("readiness and the MCP endpoint answer through the proxy", async ({ request, baseURL }) => {
  const ready = await request.get("/ready");
  expect(ready.status()).toBe(200);
  expect((await ready.json()).status).toBe("ready");
  // /mcp checks Host against APP_URL: the proxy keeps it, so the challenge names the public URL.
  const mcp = await request.post("/mcp", {
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    data: { jsonrpc: "2.0", id: 1, method: "initialize", params: {} },
  });
  expect(mcp.status()).toBe(401);
  expect(mcp.headers()["www-authenticate"]).toContain(
    `resource_metadata="${baseURL}/.well-known/oauth-protected-resource/mcp"`,
  );
  const metadata = await request.get("/.well-known/oauth-protected-resource/mcp");
  expect(metadata.status()).toBe(200);
  expect((await metadata.json()).resource).toBe(`${baseURL}/mcp`);
});
