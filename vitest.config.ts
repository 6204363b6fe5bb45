import { configDefaults, defineConfig } from 'vitest/config';

/** Test files run in their own forked processes, this many at once (integration files start real brokers and databases). */
const concurrentFiles = Number(process.env.PUMPWATCH_TEST_CONCURRENCY ?? 2) || 2;

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: concurrentFiles,
    exclude: [...configDefaults.exclude],
    coverage: {
      provider: 'v8',
      // TypeScript only: the SQL migrations under server/ are not code V8 runs
      include: ['server/**/*.ts', 'gateway/**/*.ts', 'protocol/**/*.ts', 'durable/**/*.ts', 'simulators/**/*.ts', 'dashboard/src/**/*.ts'],
      // the include patterns also match test/unit/server/... and the like: test helpers are not product code
      exclude: ['test/**'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: '.coverage',
      // the figures still show when a test failed (the closing line says the run failed)
      reportOnFailure: true,
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // pure logic on a fake clock: anything slower than this is a hang, not a slow test
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // integration/, e2e/ and any other folder: everything under test/ that is not a unit test
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**'],
          // real Mosquitto, influxd, ptys, child processes and Chromium on a shared 2-core machine;
          // tests that need longer say so with { timeout }
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
