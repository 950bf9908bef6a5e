#!/usr/bin/env node
/**
 * The nurse board's first-load budget: the initial JavaScript (the entry script and what
 * index.html preloads, gzip level 9) and Chromium's first-contentful-paint on a cold load of
 * the app served by the real server (median of 7 runs, cache off). Run after `npm run build`:
 *   node web/scripts/measure-board.mjs
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { buildApp } from '@nattevakt/server/app';
import { pino } from 'pino';
import { chromium } from 'playwright-core';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const html = readFileSync(join(webDir, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
let raw = 0;
let gzip = 0;
for (const file of initial) {
  const bytes = readFileSync(join(webDir, file));
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
console.log(
  `initial JavaScript: ${initial.join(', ')}: ${(raw / 1024).toFixed(1)} kB, ${(gzip / 1024).toFixed(1)} kB gzip (budget 250 kB gzip)`,
);

const dir = mkdtempSync(join(tmpdir(), 'nattevakt-measure-'));
const server = await buildApp({ dataDir: dir, logger: pino({ level: 'silent' }), auth: { secureCookies: false }, webDir });
await server.app.listen({ host: '127.0.0.1', port: 0 });
const url = `http://127.0.0.1:${server.app.server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const paints = [];
try {
  for (let i = 0; i < 7; i++) {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await page.goto(url, { waitUntil: 'load' });
    await page.getByTestId('login-form').waitFor();
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null);
    if (fcp !== null) paints.push(fcp);
    await context.close();
  }
} finally {
  await browser.close();
  await server.app.close();
  rmSync(dir, { recursive: true, force: true });
}
paints.sort((a, b) => a - b);
console.log(
  `first-contentful-paint, cold load over loopback, 1024×768: median ${paints[3]?.toFixed(0)} ms (runs: ${paints.map((p) => p.toFixed(0)).join(', ')} ms)`,
);
