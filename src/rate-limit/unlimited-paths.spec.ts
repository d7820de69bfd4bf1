import { isUnlimitedPath } from './unlimited-paths.js';

describe('isUnlimitedPath', () => {
  it.each(['/health', '/health/', '/HEALTH', '/healthz', '/readyz', '/metrics', '/metrics/', '/api/v1/healthz', '/health/live', '/api/v1/webhooks/github'])(
    'exempts %s',
    (path) => {
      expect(isUnlimitedPath(path)).toBe(true);
    },
  );

  it.each(['/api/v1/me', '/api/v1/runners/health', '/healthcheck', '/metricsx', '/api/v1/webhooksx', '/'])(
    'limits %s',
    (path) => {
      expect(isUnlimitedPath(path)).toBe(false);
    },
  );
});
