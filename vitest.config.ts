import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      '{protocol,gateway,server,simulator}/{src,test}/**/*.test.ts',
      'e2e/test/**/*.test.ts',
      'deploy/test/**/*.test.ts',
      'web/src/**/*.test.tsx',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Node; the web app's component tests (web/src/**/*.test.tsx) ask for happy-dom in their first line.
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start real brokers, servers and a browser: keep them from starving each other on 2 cores.
    maxWorkers: 2,
  },
});
