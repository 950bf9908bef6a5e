import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{protocol,gateway,server,simulator}/{src,test}/**/*.test.ts', 'e2e/test/**/*.test.ts', 'deploy/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start real brokers, servers and a browser: keep them from starving each other on 2 cores.
    maxWorkers: 2,
  },
});
