import { API_PREFIX } from '../common/api.js';

/**
 * Paths no rate limit applies to, with anything below them: probes and scrapers call these often,
 * from one address, and a refused probe would take a healthy instance out of service. GitHub's
 * webhook deliveries come from a few addresses, about three per job, and a refused one is not sent
 * again: each is checked by its signature (an HMAC over at most 1 MiB, never audited) instead. A list
 * rather than a decorator, so a route added at one of these paths is covered without knowing about it.
 */
export const UNLIMITED_PATHS: readonly string[] = ['/health', '/healthz', '/readyz', '/metrics', '/webhooks'];

/**
 * Whether `path` (the request's, without its query) is one of UNLIMITED_PATHS or below one, with or
 * without the API prefix. Express routes ignore case and a trailing slash, and so does this.
 */
export function isUnlimitedPath(path: string): boolean {
  let normalized = path.toLowerCase().replace(/\/+$/, '');
  const prefix = `/${API_PREFIX}`;
  if (normalized.startsWith(`${prefix}/`)) normalized = normalized.slice(prefix.length);
  return UNLIMITED_PATHS.some((unlimited) => normalized === unlimited || normalized.startsWith(`${unlimited}/`));
}
