/** Jest runs the TypeScript sources as ESM (Nest 12 packages are ESM-only). */
export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  setupFiles: ['<rootDir>/test/jest-setup.ts'],
  // On the embedded database (no TEST_DATABASE_URL, as on a fresh machine) each test database is a
  // WebAssembly PostgreSQL created and migrated in the test's process, several times slower than a
  // server's; a CLI test makes several. A loaded 2-core machine needs the longer limit there.
  testTimeout: process.env.TEST_DATABASE_URL ? 30_000 : 90_000,
  // On a PostgreSQL server most of a test file's time is spent waiting (the database, HTTP between the
  // service and the simulator), so two files at once use a 2-core machine better than Jest's default
  // of one worker there; the embedded database is CPU-bound and keeps the default.
  ...(process.env.TEST_DATABASE_URL ? { maxWorkers: 2 } : {}),
};
