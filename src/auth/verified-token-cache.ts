import { createHash } from 'node:crypto';
import type { TrustedIssuer } from '../policy/policy.types.js';
import type { Identity } from './actor.js';

/** What a verification concluded about a token: kept until the token expires or the entry ages out. */
export interface VerifiedToken {
  trusted: TrustedIssuer;
  identity: Identity;
}

interface Entry {
  verified: VerifiedToken;
  /** Epoch ms from which the entry no longer answers: its token's exp (with tolerance) or its age limit. */
  validUntilMs: number;
}

/**
 * How many tokens are remembered: each costs its SHA-256 and the caller's identity with the token's
 * claims, 1–2 KB for a GitHub Actions token, so at most about 4 MB.
 */
export const VERIFIED_TOKENS_MAX_ENTRIES = 2_000;
/** How long a verification is trusted: a key the issuer withdraws stops working here within this. */
export const VERIFIED_TOKENS_MAX_AGE_MS = 60_000;

/**
 * Tokens this instance verified lately, so a caller who sends the same token again is not verified
 * from scratch: the signature check is most of what authenticating a request costs. Keyed by the
 * token's SHA-256, never the token. Only accepted tokens enter. An entry answers until its token
 * expires (exp plus the issuer's clock tolerance, as the full check counts it) and for at most
 * VERIFIED_TOKENS_MAX_AGE_MS; the other time checks (nbf, iat, lifetime) cannot turn false as time
 * goes on. The owner empties it when the policy's issuers change.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = VERIFIED_TOKENS_MAX_ENTRIES,
    private readonly maxAgeMs = VERIFIED_TOKENS_MAX_AGE_MS,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The verification of this token, while it still holds at `nowMs`. */
  get(token: string, nowMs: number): VerifiedToken | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (nowMs >= entry.validUntilMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.verified;
  }

  /** Remembers an accepted token whose `exp` (epoch seconds) was checked with the issuer's tolerance. */
  remember(token: string, exp: number, verified: VerifiedToken, nowMs: number): void {
    const validUntilMs = Math.min(nowMs + this.maxAgeMs, (exp + verified.trusted.clockToleranceSeconds) * 1000);
    if (!(validUntilMs > nowMs)) return;
    const key = keyOf(token);
    this.entries.delete(key);
    // The oldest entry makes room: a Map iterates in insertion order.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    // Every request with this token shares what it says: frozen, so no request can change it for the next.
    deepFreeze(verified.identity);
    this.entries.set(key, { verified, validUntilMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const field of Object.values(value)) deepFreeze(field);
}

function keyOf(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}
