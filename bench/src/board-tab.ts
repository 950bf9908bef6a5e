/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The nurse board of the built web app in a real Chromium tab (Debian's /usr/bin/chromium through
 * playwright-core, launched as the e2e browser tests launch it), for the benchmarks: logged in,
 * "Start vakt" pressed, and every alarm card reported with the wall-clock moment it entered the
 * tab's DOM. The e2e helpers (e2e/test/support/browser.ts) are not importable from here: they
 * live in e2e's test folder, which its package does not export, and pull in vitest.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { cpuSeconds, root } from './processes.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** What the server serves by default (server/src/main.ts: `--web-dir`, default web/dist of this checkout). */
export const webDir = join(root, 'web/dist');

/** Fails with what to do when the tab cannot be opened: no Chromium, or the web app not built. */
export function checkBoardTabCanOpen(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`--chromium needs Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  if (!existsSync(join(webDir, 'index.html')))
    throw new Error(`--chromium needs the built web app, but ${webDir}/index.html is missing: npm run build -w web`);
}

/** The bench's clock in the page's terms: wall-clock milliseconds (Unix epoch) with sub-millisecond digits. */
const wallNow = () => performance.timeOrigin + performance.now();

export interface TabHealth {
  longTaskMs: number;
  longTasks: number;
  linkLost: number;
}

export interface BoardTab {
  page: Page;
  /**
   * The page's clock minus the bench's, from the round trip with the smallest duration of 20
   * (`offset`), ± half that round trip (`uncertainty`), in ms; and whether the page's timers are
   * the coarse ones (Chromium clamps `performance.now()` to 100 µs outside cross-origin isolation).
   */
  clock: { offset: number; uncertainty: number; crossOriginIsolated: boolean };
  /** CPU seconds used so far by Chromium and all its helper processes (renderer, GPU, network), and by its renderers alone (the page). */
  cpuSeconds(): { all: number; renderer: number };
  /** Memory of Chromium and its helpers, MB: the sum of their proportional set sizes (PSS), so pages they share count once. */
  pssMb(): number;
  /** Alarm cards in the tab's DOM now. */
  cards(): Promise<number>;
  /**
   * Since the tab opened: the page's main thread in long tasks (> 50 ms; the Long Tasks API),
   * total ms and count, and how often the board said it lost the server (its connection banner).
   */
  health(): Promise<TabHealth>;
  close(): Promise<void>;
}

/**
 * Opens the nurse board at `url` with the session `cookie` (`name=value`) of an already logged-in
 * nurse, presses "Start vakt", and from then on calls `onShown(alarmId, wallMs)` once per alarm
 * card that enters the DOM: cards are told apart by the alarm id in their `data-testid`, never by
 * position, so a card that re-renders or moves is not counted twice.
 */
export async function openBoardTab(options: {
  url: string;
  cookie: string;
  onShown: (alarmId: string, wallMs: number) => void;
}): Promise<BoardTab> {
  checkBoardTabCanOpen();
  const browser: Browser = await chromium.launch({
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
  try {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'nb-NO' });
    const [name, ...value] = options.cookie.split('=');
    await context.addCookies([{ name: name ?? '', value: value.join('='), url: options.url }]);
    const page = await context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`[board tab] page error: ${error.message}\n`));
    await page.goto(options.url);
    await page.getByTestId('start-shift').click({ timeout: 30_000 });
    await page.getByTestId('ward-board').waitFor({ timeout: 30_000 });

    await page.exposeFunction('__benchCardShown', (alarmId: string, wallMs: number) => options.onShown(alarmId, wallMs));
    await page.evaluate((selector) => {
      const tell = (window as unknown as { __benchCardShown: (alarmId: string, wallMs: number) => Promise<void> }).__benchCardShown;
      const told = new Set<string>();
      const health = { longTaskMs: 0, longTasks: 0, linkLost: 0 };
      (window as unknown as { __benchHealth: typeof health }).__benchHealth = health;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          health.longTaskMs += entry.duration;
          health.longTasks++;
        }
      }).observe({ type: 'longtask' });
      // The "lost the server" banner (the quiet "connecting" one has no data-fallback).
      const banner = '[data-testid="connection-banner"][data-fallback]';
      const report = (card: Element, at: number) => {
        const id = card.getAttribute('data-testid')?.slice('alarm-'.length);
        if (!id || told.has(id)) return;
        told.add(id);
        void tell(id, at);
      };
      // The callback runs right after the task that changed the DOM (React's commit): one clock
      // reading for all of its records, before the next paint.
      new MutationObserver((records) => {
        const at = performance.timeOrigin + performance.now();
        for (const record of records) {
          for (const node of record.addedNodes) {
            if (!(node instanceof Element)) continue;
            if (node.matches(selector)) report(node, at);
            for (const card of node.querySelectorAll(selector)) report(card, at);
            if (node.matches(banner) || node.querySelector(banner) !== null) health.linkLost++;
          }
        }
      }).observe(document.body, { childList: true, subtree: true });
      const now = performance.timeOrigin + performance.now();
      for (const card of document.querySelectorAll(selector)) report(card, now);
    }, CARD);

    let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
    for (let i = 0; i < 20; i++) {
      const before = wallNow();
      const inPage = await page.evaluate(() => performance.timeOrigin + performance.now());
      const after = wallNow();
      if (after - before < best.rtt) best = { rtt: after - before, offset: inPage - (before + after) / 2 };
    }
    const crossOriginIsolated = await page.evaluate(() => globalThis.crossOriginIsolated);

    return {
      page,
      clock: { offset: best.offset, uncertainty: best.rtt / 2, crossOriginIsolated },
      cpuSeconds: () => {
        const used = { all: 0, renderer: 0 };
        for (const pid of chromiumTree()) {
          const seconds = safely(() => cpuSeconds(pid));
          used.all += seconds;
          if (isRenderer(pid)) used.renderer += seconds;
        }
        return used;
      },
      pssMb: () => chromiumTree().reduce((sum, pid) => sum + safely(() => pssMb(pid)), 0),
      cards: () => page.locator(CARD).count(),
      health: () => page.evaluate(() => ({ ...(window as unknown as { __benchHealth: TabHealth }).__benchHealth })),
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close().catch(() => undefined);
    throw error;
  }
}

/** Alarm cards only: the overlay around them has data-testid="alarm-overlay" but no data-status. */
const CARD = 'article[data-testid^="alarm-"][data-status]';

/** Proportional set size of a process in MB (Linux /proc). */
const pssMb = (pid: number) =>
  Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? Number.NaN) / 1024;

const isRenderer = (pid: number) => {
  try {
    // Chromium rewrites its command line with spaces between the arguments.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/).includes('--type=renderer');
  } catch {
    return false;
  }
};

const safely = (read: () => number) => {
  try {
    const value = read();
    return Number.isFinite(value) ? value : 0;
  } catch {
    return 0; // the process ended between listing and reading
  }
};

/** Chromium processes under this one (Linux /proc): its children that run CHROMIUM, and all of theirs. */
function chromiumTree(): number[] {
  const childrenOf = (pid: number): number[] => {
    try {
      return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
        readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
      );
    } catch {
      return [];
    }
  };
  const isChromium = (pid: number) => {
    try {
      return readlinkSync(`/proc/${pid}/exe`).includes('chromium');
    } catch {
      return false;
    }
  };
  const found: number[] = [];
  const walk = (pid: number) => {
    found.push(pid);
    for (const child of childrenOf(pid)) walk(child);
  };
  for (const child of childrenOf(process.pid)) if (isChromium(child)) walk(child);
  return found;
}
