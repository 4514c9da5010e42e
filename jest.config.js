/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  // Integration tests need the local broker; this starts it when nothing answers (see scripts/kafka.mjs).
  globalSetup: '<rootDir>/tests/global-setup.ts',
  // Deletes the topics the run created (their names carry the run's id).
  globalTeardown: '<rootDir>/tests/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
