import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./chromium.mjs";

// The server is started by scripts/test.sh (or by you: scripts/run.sh) before Playwright runs;
// BASE_URL says where. Browsers come from Debian (/usr/bin/chromium): Playwright downloads none.
const baseURL = process.env.BASE_URL ?? "http://127.0.0.1:3000";
// The deployment behind nginx (scripts/deploy_check.sh), only when that script says where it is.
const proxyBaseURL = process.env.PROXY_BASE_URL;

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: chromiumLaunchOptions,
  },
  projects: [
    {
      name: "js-on",
      use: { browserName: "chromium", javaScriptEnabled: true },
      testIgnore: [/.*\.js-off\.spec\.ts/, /.*\.sdk\.spec\.ts/, /.*\.proxy\.spec\.ts/],
    },
    {
      name: "js-off",
      use: { browserName: "chromium", javaScriptEnabled: false },
      testIgnore: [/.*\.js-on\.spec\.ts/, /.*\.sdk\.spec\.ts/, /.*\.proxy\.spec\.ts/],
    },
    {
      // Scalekit's SDKs against the development identity provider: HTTP only, no browser page.
      name: "sdk",
      testMatch: /.*\.sdk\.spec\.ts/,
    },
    ...(proxyBaseURL
      ? [
          {
            // Its certificate is self-signed for 127.0.0.1.
            name: "proxy",
            testMatch: /.*\.proxy\.spec\.ts/,
            use: {
              browserName: "chromium" as const,
              baseURL: proxyBaseURL,
              ignoreHTTPSErrors: true,
            },
          },
        ]
      : []),
  ],
});
