#!/usr/bin/env node
// Container and probe health check without curl (the images are distroless): exits 0 when the URL
// answers 200 within the timeout, 1 otherwise, and says why on stderr.
//   node healthcheck.mjs http://127.0.0.1:8080/api/health   (server: 503 while the database is down)
//   node healthcheck.mjs http://127.0.0.1:9101/health       (gateway: 503 while the broker is down)
const url = process.argv[2] ?? process.env.NATTEVAKT_HEALTH_URL;
const timeoutMs = Number(process.env.NATTEVAKT_HEALTH_TIMEOUT_MS ?? 4000);
if (!url) {
  process.stderr.write('usage: healthcheck.mjs URL (or NATTEVAKT_HEALTH_URL)\n');
  process.exit(2);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await response.text();
  if (response.status !== 200) {
    process.stderr.write(`unhealthy: ${url} answered ${response.status} ${body.slice(0, 300)}\n`);
    process.exit(1);
  }
  process.stdout.write(`${body.slice(0, 300)}\n`);
} catch (error) {
  process.stderr.write(`unhealthy: ${url}: ${error.cause?.message ?? error.message}\n`);
  process.exit(1);
}
