/** Every API route lives under this prefix (no leading slash, as Nest's setGlobalPrefix takes it). */
export const API_PREFIX = 'api/v1';

/** Liveness: the process answers. */
export const LIVENESS_PATH = 'healthz';
/** Readiness: the process can serve (database, migrations, policy, not shutting down). */
export const READINESS_PATH = 'readyz';
/** The detailed health report. */
export const HEALTH_PATH = 'health';
/** Probed every few seconds, outside the API prefix and out of the request log. */
export const PROBE_PATHS: readonly string[] = [HEALTH_PATH, LIVENESS_PATH, READINESS_PATH];
/** Prometheus scrapes, every few seconds too: outside the API prefix and out of the request log. */
export const METRICS_PATH = 'metrics';
