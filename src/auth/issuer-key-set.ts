import { createLocalJWKSet, type CryptoKey, type JSONWebKeySet } from 'jose';
import { KeysUnavailableError, TokenRejectedError } from './auth-errors.js';

/** A key set this old is fetched again, in the background, at the next request that uses it. */
export const KEY_SET_STALE_AFTER_MS = 10 * 60_000;

export interface IssuerKeySetOptions {
  /** The issuer's name, for the log lines about it. */
  name: string;
  /** Where the keys come from, for the log lines about it (a URL, or "discovery at …"). */
  source: string;
  /** Fetches the JWKS document (discovering its URL first when needed). */
  fetchDocument: () => Promise<unknown>;
  /** After a fetch (good or failed), no other fetch for this long, whatever tokens arrive. */
  cooldownMs: number;
  staleAfterMs?: number;
  /** A background refresh that failed (the set in use stays). */
  onRefreshError?: (error: unknown) => void;
  now?: () => number;
}

interface LoadedKeys {
  lookup: ReturnType<typeof createLocalJWKSet>;
  keyCount: number;
  fetchedAt: number;
}

/**
 * One issuer's signing keys, cached whole. Tokens cannot make it fetch more often than once per
 * cooldown, however many unknown `kid`s they name: an unknown kid refetches only when the cooldown
 * since the last fetch has passed, and is otherwise refused as unknown. One fetch at a time (callers
 * share it). A failed fetch keeps the last good set; a stale set is refreshed in the background and
 * stays in use if that fails. Without any good set yet, lookups fail with KeysUnavailableError (503).
 */
export class IssuerKeySet {
  private keys: LoadedKeys | null = null;
  private inFlight: Promise<void> | null = null;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private lastError: unknown = null;
  private readonly now: () => number;
  private readonly staleAfterMs: number;

  constructor(private readonly options: IssuerKeySetOptions) {
    this.now = options.now ?? Date.now;
    this.staleAfterMs = options.staleAfterMs ?? KEY_SET_STALE_AFTER_MS;
  }

  /**
   * The public key for a token's `alg` and `kid`. Throws TokenRejectedError (key_unknown, or
   * kid_invalid when the token names no kid and the issuer publishes several keys), or
   * KeysUnavailableError when no key set could be fetched yet.
   */
  async keyFor(alg: string, kid: string | undefined): Promise<CryptoKey> {
    if (!this.keys) {
      await this.fetchUnlessCoolingDown().catch(() => undefined);
    } else if (this.now() - this.keys.fetchedAt >= this.staleAfterMs) {
      this.refreshInBackground();
    }
    const first = await this.find(alg, kid);
    if (first) return first;
    // Join a fetch already under way (it costs nothing more), or start one if the cooldown allows.
    await (this.inFlight ?? this.fetchUnlessCoolingDown()).catch(() => undefined);
    const second = await this.find(alg, kid);
    if (second) return second;
    throw new TokenRejectedError(
      'key_unknown',
      "The token's signing key (kid) is not among the keys its issuer publishes; get a new token from its issuer",
      `issuer ${this.options.name}: no key for alg ${alg} and kid ${kid ?? '(none)'} at ${this.options.source}`,
    );
  }

  /** The key, or null when the set has none for this alg and kid. */
  private async find(alg: string, kid: string | undefined): Promise<CryptoKey | null> {
    const keys = this.requireKeys();
    if (kid === undefined && keys.keyCount > 1) {
      throw new TokenRejectedError(
        'kid_invalid',
        'The token has no kid header, but its issuer publishes several keys; get a new token from its issuer',
      );
    }
    try {
      return await keys.lookup({ alg, kid });
    } catch {
      // No key matches (or several do, under one kid): either way, not a key this token can use.
      return null;
    }
  }

  private requireKeys(): LoadedKeys {
    if (this.keys) return this.keys;
    throw new KeysUnavailableError(
      `issuer ${this.options.name}: no signing keys from ${this.options.source}: ${describe(this.lastError)}`,
    );
  }

  private refreshInBackground(): void {
    if (this.inFlight) return;
    this.fetchUnlessCoolingDown().catch((error: unknown) => this.options.onRefreshError?.(error));
  }

  /** Fetches (single-flight) unless the cooldown since the last fetch is still running. */
  private fetchUnlessCoolingDown(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.lastFetchAt < this.options.cooldownMs) return Promise.resolve();
    this.lastFetchAt = this.now();
    this.inFlight = this.fetch().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async fetch(): Promise<void> {
    try {
      const document = await this.options.fetchDocument();
      const keyCount = signingKeyCount(document);
      if (keyCount === 0) throw new Error('the JWKS has no signing keys');
      // Throws on a document that is not a JWK Set.
      const lookup = createLocalJWKSet(document as JSONWebKeySet);
      this.keys = { lookup, keyCount, fetchedAt: this.now() };
      this.lastError = null;
    } catch (error) {
      this.lastError = error;
      throw error;
    }
  }
}

const SIGNING_KEY_TYPES = ['RSA', 'EC', 'OKP'];

/**
 * Public keys of a type that signs tokens, meant for signatures (`use` absent or `sig`). Only these
 * count towards "several keys", and a document with none of them does not replace the set in use.
 */
function signingKeyCount(document: unknown): number {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return 0;
  return keys.filter(
    (key) =>
      typeof key === 'object' &&
      key !== null &&
      SIGNING_KEY_TYPES.includes(key.kty) &&
      (key.use === undefined || key.use === 'sig'),
  ).length;
}

function describe(error: unknown): string {
  if (error === null) return 'not fetched (cooling down)';
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : String(error);
}
