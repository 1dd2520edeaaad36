// Debian's Chromium driven by playwright-core (no browser download), headless,
// in a fresh profile; screenshots and accessibility checks of pages.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { REPO } from './platform.mjs';

/** Chromium's flags on a machine without sandbox privileges or outside network. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** The two screen widths every page is checked at. */
export const WIDTHS = [1280, 390];
/** Where screenshots go (QMARKET_SCREENSHOTS overrides). */
export const SCREENSHOTS = process.env.QMARKET_SCREENSHOTS ?? join(REPO, 'target/console-screenshots');

/** A browser context in a fresh profile; `close()` removes the profile. */
export async function startBrowser(base) {
  const profile = mkdtempSync(join(tmpdir(), 'qmarket-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: WIDTHS[0], height: 900 },
    acceptDownloads: true,
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Checks the page `page` shows now at every width: a full-page screenshot
 * `<width>/<name>.png`, an axe run (WCAG 2 A and AA rules and best
 * practices) and a check that the page is no wider than the screen. Returns
 * the violations per width, each as `{id, impact, nodes, help}`.
 */
export async function screenshotAndAxe(page, name) {
  const results = {};
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    mkdirSync(join(SCREENSHOTS, String(width)), { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, String(width), `${name}.png`), fullPage: true });
    const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
    results[width] = axe.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
    // A page wider than the screen hides some of itself behind a sideways scroll.
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    if (scrollWidth > width) {
      results[width].push({ id: 'wider-than-the-screen', impact: 'serious', nodes: 1, help: `${scrollWidth} px wide at ${width} px` });
    }
  }
  await page.setViewportSize({ width: WIDTHS[0], height: 900 });
  return results;
}
