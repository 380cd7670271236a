/**
 * Debian's Chromium driven by playwright-core: no browser download, ever.
 * A missing Chromium fails the run in CI (CI=true); elsewhere the browser suite is skipped, loudly.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Whether the browser suite can run; throws the reason in CI when it cannot. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const reason = `Chromium is missing at ${CHROMIUM}: apt-get install chromium (.ci/run does)`;
  if (process.env.CI) throw new Error(reason);
  console.warn(`[browser tests skipped] ${reason}`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** The texts of the chat page's message list (notices excluded). */
export function messageTexts(page: Page): Promise<string[]> {
  return page.locator("#messages li.message").allTextContents();
}

/** Waits until the chat page's message list shows `text`; a failure names it and what the page shows. */
export async function waitForMessage(page: Page, text: string): Promise<void> {
  await page
    .waitForFunction(
      (wanted) =>
        [...document.querySelectorAll("#messages li.message")].some((li) => li.textContent === wanted),
      text,
    )
    .catch(async (error: Error) => {
      const shown = (await messageTexts(page).catch(() => [])).slice(-5);
      throw new Error(
        `expected the page to show ${JSON.stringify(text)}; its last messages: ${JSON.stringify(shown)}\n(${error.message})`,
      );
    });
}

/** Waits until the chat page shows connection state `state`; a failure names it and the state shown. */
export async function waitForState(page: Page, state: string): Promise<void> {
  await page
    .locator(`#state[data-state="${state}"]`)
    .waitFor()
    .catch(async (error: Error) => {
      const shown = await page
        .locator("#state")
        .getAttribute("data-state", { timeout: 1000 })
        .catch(() => null);
      throw new Error(`expected the page's state "${state}", it shows "${shown}"\n(${error.message})`);
    });
}

/** Types `text` into the chat page and sends it with Enter. */
export async function say(page: Page, text: string): Promise<void> {
  await page.fill("#input", text);
  await page.press("#input", "Enter");
}

/** The connection id the chat page shows as "You are User {id}". */
export async function myId(page: Page): Promise<string> {
  const text = (await page.locator("#me").textContent()) ?? "";
  return text.replace(/^User /, "");
}
