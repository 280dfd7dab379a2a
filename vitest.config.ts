import { defineConfig } from 'vitest/config';

// Integration tests start real servers (PostgreSQL, sshd, Chromium); give them room, and run at most two
// files at once on these 2-core machines.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ['default'],
  },
});
