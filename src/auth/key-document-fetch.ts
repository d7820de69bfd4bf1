/**
 * Fetching an issuer's discovery document and JWKS: bounded in time (the body included) and in size,
 * over https (plain http to this machine only), so a slow, huge or hijacked endpoint cannot hold
 * requests or memory.
 */

export interface KeyFetchLimits {
  /** One deadline for everything a key set load fetches (discovery and JWKS), bodies included. */
  deadlineMs: number;
  /** The largest document accepted, in bytes. */
  maxBytes: number;
}

export const DEFAULT_KEY_FETCH_LIMITS: KeyFetchLimits = { deadlineMs: 5_000, maxBytes: 1024 * 1024 };

export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** Why a discovery document or JWKS could not be had; the message names the URL (for the log only). */
export class KeyFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFetchError';
  }
}

/** An https URL, or plain http to localhost, 127.0.0.0/8 or [::1]. */
export function isSafeKeyUrl(value: string): boolean {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol === 'https:') return true;
  const host = url?.hostname ?? '';
  return url?.protocol === 'http:' && (host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host));
}

/** The issuer's discovery document URL: `ISSUER/.well-known/openid-configuration`. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${DISCOVERY_PATH}`;
}

/**
 * GETs a JSON document. Fails (KeyFetchError) on a non-2xx answer, a body over `maxBytes` (read no
 * further), a redirect (a key URL is configured or discovered exactly), invalid JSON, or when `signal`
 * aborts, whether waiting for headers or for the rest of a slowly dripping body.
 */
export async function fetchJsonDocument(url: string, signal: AbortSignal, maxBytes: number): Promise<unknown> {
  if (!isSafeKeyUrl(url)) throw new KeyFetchError(`${url} is not an https URL (plain http only to this machine)`);
  const fail = (why: string) => new KeyFetchError(`GET ${url}: ${why}`);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
  } catch (error) {
    throw fail(describeFetchError(error, signal));
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw fail(`answered HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw fail(`the document is ${declared} bytes, more than the ${maxBytes} accepted`);
  }
  const bytes = await readLimited(response, maxBytes, signal).catch((error: unknown) => {
    throw error instanceof KeyFetchError ? fail(error.message) : fail(describeFetchError(error, signal));
  });
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw fail('the document is not JSON');
  }
}

async function readLimited(response: Response, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  // The fetch's signal already errors the stream; cancelling as well makes sure a read never outlives it.
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        cancel();
        throw new KeyFetchError(`the document is larger than the ${maxBytes} bytes accepted`);
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  return Buffer.concat(chunks);
}

/** Node's fetch reports "fetch failed" with the reason in `cause`; a deadline as a TimeoutError. */
function describeFetchError(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) {
    const reason = signal.reason as { name?: unknown } | undefined;
    return reason?.name === 'TimeoutError' ? 'no complete answer before the deadline' : 'aborted';
  }
  const message = messageOf(error);
  const cause = messageOf((error as { cause?: unknown } | null)?.cause);
  return cause ? `${message} (${cause})` : message;
}

function messageOf(error: unknown): string {
  if (error === undefined || error === null) return '';
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : String(error);
}

/**
 * The JWKS URL an issuer's discovery document names. The document must name exactly `issuer` as
 * its issuer (OpenID Connect Discovery 1.0, section 4.3) and an https (or loopback http) `jwks_uri`.
 */
export async function discoverJwksUrl(issuer: string, signal: AbortSignal, maxBytes: number): Promise<string> {
  const url = discoveryUrl(issuer);
  const document = await fetchJsonDocument(url, signal, maxBytes);
  const fields = typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  if (fields.issuer !== issuer) {
    throw new KeyFetchError(`GET ${url}: the discovery document names another issuer (${String(fields.issuer).slice(0, 256)})`);
  }
  const jwksUri = fields.jwks_uri;
  if (typeof jwksUri !== 'string' || !isSafeKeyUrl(jwksUri)) {
    throw new KeyFetchError(`GET ${url}: the discovery document has no https jwks_uri`);
  }
  return jwksUri;
}
