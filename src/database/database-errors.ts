/**
 * Which errors mean "the database cannot be reached or cannot answer now" (worth a retry in a few
 * seconds), as opposed to a bug or a refused statement. TypeORM wraps what pg raised in a
 * QueryFailedError (`driverError`); pg and pg-pool raise plain Errors, some with a Node `code`, some
 * with a `cause`; a connection to a host name with several addresses fails with an AggregateError.
 */

/** Node's network error codes that mean the server is out of reach. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * PostgreSQL's SQLSTATEs of the same kind: admin_shutdown, crash_shutdown, cannot_connect_now (a
 * server starting or in recovery), too_many_connections, and query_canceled (the statement timeout:
 * a server too slow to answer). Class 08 (connection exception) is matched as a class.
 */
const SQLSTATES: ReadonlySet<string> = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

/** What pg and pg-pool say when a connection fails or is cut; they set no code on these. */
const DRIVER_MESSAGES: readonly RegExp[] = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect$/,
  /^Query read timeout$/,
  /is not queryable$/,
  /^Client was closed and is not queryable$/,
];

/** How deep to look through wrapped errors (a cause of a cause…). */
const MAX_DEPTH = 4;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error that shows the database unavailable, or null: `error` itself or one it wraps. */
function unavailability(error: unknown, depth = 0): ErrorLike | null {
  if (typeof error !== 'object' || error === null || depth > MAX_DEPTH) return null;
  const candidate = error as ErrorLike;
  const code = typeof candidate.code === 'string' ? candidate.code : '';
  const message = typeof candidate.message === 'string' ? candidate.message : '';
  if (NETWORK_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return candidate;
  if (DRIVER_MESSAGES.some((pattern) => pattern.test(message))) return candidate;
  const inner = [candidate.driverError, candidate.cause, ...(Array.isArray(candidate.errors) ? candidate.errors : [])];
  for (const wrapped of inner) {
    const found = unavailability(wrapped, depth + 1);
    if (found) return found;
  }
  return null;
}

/** True when `error` says the database cannot be reached or cannot answer now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailability(error) !== null;
}

/** Why, in a few words for the log: "ECONNREFUSED", "Query read timeout", "57P01: terminating connection…". */
export function describeDatabaseFailure(error: unknown): string {
  const found = unavailability(error);
  if (!found) return 'not a connection failure';
  const code = typeof found.code === 'string' ? found.code : '';
  const message = typeof found.message === 'string' ? found.message : '';
  if (NETWORK_CODES.has(code)) return code;
  return code ? `${code}: ${message}` : message;
}
