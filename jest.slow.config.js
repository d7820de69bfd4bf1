import base from './jest.config.js';

/**
 * `npm run test:slow`: tests that run the built service as its own process and kill it, then wait
 * out the requests it cut short. `npm test` leaves them out (its testMatch does not take *.slow-spec.ts).
 */
export default {
  ...base,
  testMatch: ['**/*.slow-spec.ts'],
  testTimeout: 300_000,
};
