import { test as base, expect } from "@playwright/test";

// Every test fails on a console error, a hydration warning, an uncaught exception or a CSP
// violation: these are bugs even when the page looks right.
export const test = base.extend<{ pageProblems: string[] }>({
  pageProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on("console", (message) => {
        const text = message.text();
        // A page deliberately answered with an error status (404, 403) is logged as a failed load
        // of the document itself; tests assert those statuses explicitly.
        const isDocumentStatus =
          text.startsWith("Failed to load resource") && message.location().url === page.url();
        if (isDocumentStatus) return;
        if (
          message.type() === "error" ||
          /hydrat|Content Security Policy/i.test(text)
        ) {
          problems.push(`console ${message.type()}: ${text}`);
        }
      });
      page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
      await use(problems);
      expect(problems, "console errors, hydration warnings or CSP violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the wasm app has hydrated (the app sets data-hydrated on <body>). */
export async function waitForHydration(page: import("@playwright/test").Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}
