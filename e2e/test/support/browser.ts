/// <reference lib="dom" />
/**
 * A real Chromium (Debian's /usr/bin/chromium through playwright-core) for the web app's
 * browser tests: launch, log in as a person, screenshots into artifacts/, and a WCAG contrast
 * check of what is on screen.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { PASSWORD } from './stack.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
export const webDir = resolve(here, '../../../web/dist');
export const artifacts = resolve(here, '../../../artifacts');
export const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  if (process.env.CI === 'true') throw new Error(`Chromium is required in CI but ${CHROMIUM} is missing: apt-get install chromium`);
  console.warn(`\n!!! SKIPPING the browser tests: ${CHROMIUM} not found (apt-get install chromium). CI runs them.\n`);
}

export const TABLET = { width: 1024, height: 768 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(join(webDir, 'index.html'))) throw new Error(`${webDir} is not built: npm run build -w web`);
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** A new page (own context: own cookies and storage) that reports page errors under `name`. */
export async function newPage(browser: Browser, name: string, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: TABLET, locale: 'nb-NO', ...options });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${name}] page error:`, error));
  return page;
}

/** Logs in through the login form at `url` (the person must exist). */
export async function logIn(page: Page, url: string, username: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
}

export const screenshot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `${name}.png`) });

export interface ContrastFailure {
  text: string;
  ratio: number;
  needed: number;
  color: string;
  background: string;
}

/**
 * WCAG 2.1 AA contrast of every visible text on the page against the first opaque background
 * behind it (4.5:1, 3:1 for large text). Animations are stopped first, so each element is
 * measured in its resting colours. Texts over a gradient are measured against its darkest and
 * lightest stop. Returns the failures.
 */
export async function contrastFailures(page: Page): Promise<ContrastFailure[]> {
  await page.addStyleTag({ content: '*, *::before, *::after { animation: none !important; transition: none !important; }' });
  return page.evaluate(() => {
    const parse = (color: string): [number, number, number, number] | null => {
      const match = color.match(/rgba?\(([^)]+)\)/);
      if (!match?.[1]) return null;
      const parts = match[1]
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
      return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
    };
    const luminance = ([r, g, b]: number[]) => {
      const lin = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * lin(r ?? 0) + 0.7152 * lin(g ?? 0) + 0.0722 * lin(b ?? 0);
    };
    const ratio = (a: number[], b: number[]) => {
      const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return ((l1 ?? 0) + 0.05) / ((l2 ?? 0) + 0.05);
    };
    const backgrounds = (element: Element | null): number[][] => {
      for (let node = element; node; node = node.parentElement) {
        const style = getComputedStyle(node);
        const stops = [...style.backgroundImage.matchAll(/rgba?\([^)]+\)/g)].map((m) => parse(m[0])).filter((c) => c !== null);
        if (stops.length > 0) return stops.map((c) => c.slice(0, 3));
        const bg = parse(style.backgroundColor);
        if (bg && bg[3] >= 0.99) return [bg.slice(0, 3)];
      }
      return [[255, 255, 255]];
    };
    const failures: { text: string; ratio: number; needed: number; color: string; background: string }[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!element || seen.has(element) || !node.textContent?.trim()) continue;
      seen.add(element);
      const rect = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      if (rect.width === 0 || rect.height === 0 || style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
      if (element.closest('[aria-hidden="true"], [disabled], :disabled, svg')) continue;
      const color = parse(style.color);
      if (!color) continue;
      const size = Number.parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      const large = size >= 24 || (bold && size >= 18.66);
      const needed = large ? 3 : 4.5;
      for (const background of backgrounds(element)) {
        const r = ratio(color.slice(0, 3), background);
        if (r + 0.01 < needed) {
          failures.push({
            text: node.textContent.trim().slice(0, 60),
            ratio: Math.round(r * 100) / 100,
            needed,
            color: style.color,
            background: `rgb(${background.join(', ')})`,
          });
          break;
        }
      }
    }
    return failures;
  });
}

/** Fails with the list of texts that do not meet WCAG AA contrast. */
export async function expectReadable(page: Page): Promise<void> {
  const failures = await contrastFailures(page);
  expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
}

/**
 * Counts the oscillators the page starts (every pulse of an alarm sound is one), so a test can
 * tell whether the tablet is sounding. Must be added before the page loads.
 */
export async function countSound(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __pulses: number };
    w.__pulses = 0;
    const original = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function (this: AudioContext) {
      w.__pulses += 1;
      return original.call(this);
    };
  });
}

export const pulses = (page: Page) => page.evaluate(() => (window as unknown as { __pulses: number }).__pulses);
