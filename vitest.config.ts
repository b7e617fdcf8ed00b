import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Native addon + heavy reference math: run files in forked processes, two at a time (CI has 2 cores).
    pool: 'forks',
    maxWorkers: 2,
    // Op-allocated outputs start as NaN (bindings/ops.ts poisonFresh): unwritten elements fail parity.
    env: { SANA_LAB_POISON_OUTPUTS: '1' },
  },
});
