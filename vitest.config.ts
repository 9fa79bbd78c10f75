import { configDefaults, defineConfig } from 'vitest/config';

// Unit tests (pure logic, fakes) live beside the code; end-to-end tests on real parts
// (API server, namespaces, wireguard-go, nftables, dig) live in test/e2e and need root.
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/harness/**/*.test.ts', 'scripts/**/*.test.ts'],
          // The layer check's fixture trees are inputs, not tests.
          exclude: [...configDefaults.exclude, 'scripts/fixtures/**'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // Each e2e file builds its own topology; two cores cannot host many API servers at once.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The packages in a Debian 12 root booted with systemd (npm run test:install).
        test: {
          name: 'install',
          include: ['test/install/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
