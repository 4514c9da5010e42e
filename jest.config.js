/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  // Integration tests need the local broker; this starts it when nothing answers (see scripts/kafka.mjs).
  globalSetup: '<rootDir>/tests/global-setup.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
};
