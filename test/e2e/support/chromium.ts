// Debian's chromium driven by playwright-core (no browser download): the dashboard's browser
// tests and benchmark. A missing chromium is an error that says how to install it, never a skip.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.SHOAL_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no chromium at ${CHROMIUM}: the dashboard's browser tests need it ` +
        "(Debian: apt-get install chromium, which scripts/setup.sh --test does as root; or set SHOAL_CHROMIUM)",
    );
  }
  const args = process.getuid?.() === 0 ? ["--no-sandbox"] : [];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}
