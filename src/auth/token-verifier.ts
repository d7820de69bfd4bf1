import { Inject, Injectable, Logger } from '@nestjs/common';
import { jwtVerify } from 'jose';
import { PolicyStore } from '../policy/policy.store.js';
import type { TrustedIssuer } from '../policy/policy.types.js';
import { MALFORMED_TOKEN_MESSAGE, TokenRejectedError } from './auth-errors.js';
import { decodeUnverified } from './bearer-token.js';
import { IssuerKeySet } from './issuer-key-set.js';
import { type VerifiedToken, VerifiedTokenCache } from './verified-token-cache.js';
import { discoverJwksUrl, discoveryUrl, fetchJsonDocument, type KeyFetchLimits } from './key-document-fetch.js';
import {
  algorithmMessage,
  checkRemainingClaims,
  identityOf,
  ISSUER_UNKNOWN_MESSAGE,
  missingClaimMessage,
  rejectionFromJose,
} from './token-claims.js';

/** Nest token for the fetch limits (tests shorten the deadline). */
export const KEY_FETCH_LIMITS = Symbol('KEY_FETCH_LIMITS');

/** Asymmetric algorithms only: never HS* (a public key must not double as an HMAC secret), never none. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** What a kid may look like before it is looked up: short, and nothing to smuggle into a log line. */
const KID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Verifies bearer JWTs against the issuers the policy trusts, read per token (a reload may change
 * them). The order matters: the unverified `iss` must name a trusted issuer, and `alg` and `kid`
 * must be acceptable, before any key is looked up or fetched. Throws TokenRejectedError (401) or
 * KeysUnavailableError (503). A token accepted lately is answered from VerifiedTokenCache.
 */
@Injectable()
export class TokenVerifier {
  private readonly logger = new Logger(TokenVerifier.name);
  private readonly keySets = new Map<string, IssuerKeySet>();
  private issuersSeen: readonly TrustedIssuer[] | null = null;
  private readonly verified = new VerifiedTokenCache();

  constructor(
    private readonly policy: PolicyStore,
    @Inject(KEY_FETCH_LIMITS) private readonly limits: KeyFetchLimits,
  ) {}

  async verify(token: string): Promise<VerifiedToken> {
    this.forgetUntrustedIssuers(this.policy.current().issuers);
    const known = this.verified.get(token, Date.now());
    if (known !== undefined) return known;
    const unverified = decodeUnverified(token);
    if (!unverified) throw new TokenRejectedError('malformed', MALFORMED_TOKEN_MESSAGE);
    const { header, payload } = unverified;
    const trusted = this.trustedIssuerFor(payload.iss);
    const alg = header.alg;
    if (typeof alg !== 'string' || !trusted.algorithms.includes(alg) || !ASYMMETRIC_ALGORITHMS.includes(alg)) {
      throw new TokenRejectedError('algorithm', algorithmMessage(trusted), `issuer ${trusted.name}: alg ${String(alg)}`);
    }
    const kid = header.kid;
    if (kid !== undefined && (typeof kid !== 'string' || !KID_PATTERN.test(kid))) {
      throw new TokenRejectedError(
        'kid_invalid',
        "The token's kid header must be at most 128 characters of A-Z a-z 0-9 . _ -",
      );
    }
    const key = await this.keySetFor(trusted).keyFor(alg, kid);
    const verified = await jwtVerify(token, key, {
      issuer: trusted.issuer,
      audience: trusted.audiences,
      algorithms: [alg],
      clockTolerance: trusted.clockToleranceSeconds,
      requiredClaims: ['exp', 'sub'],
    }).catch((error: unknown) => {
      throw rejectionFromJose(error, payload, trusted);
    });
    const now = Date.now();
    checkRemainingClaims(verified.payload, trusted, Math.floor(now / 1000));
    const result = { trusted, identity: identityOf(verified.payload as typeof verified.payload & { sub: string }, trusted) };
    this.verified.remember(token, verified.payload.exp as number, result, now);
    return result;
  }

  /** The issuer the policy trusts for this (unverified) `iss`; nothing is fetched for any other. */
  private trustedIssuerFor(iss: unknown): TrustedIssuer {
    if (typeof iss !== 'string') {
      throw new TokenRejectedError('claims', missingClaimMessage('iss'));
    }
    const issuers = this.policy.current().issuers;
    // An empty iss names nobody, even should a policy hold an issuer without one.
    const trusted = iss === '' ? undefined : issuers.find((candidate) => candidate.issuer === iss);
    if (!trusted) {
      throw new TokenRejectedError('issuer_unknown', ISSUER_UNKNOWN_MESSAGE, `iss ${JSON.stringify(iss.slice(0, 256))}`);
    }
    return trusted;
  }

  private keySetFor(trusted: TrustedIssuer): IssuerKeySet {
    const id = keySetId(trusted);
    let keySet = this.keySets.get(id);
    if (!keySet) {
      keySet = this.createKeySet(trusted);
      this.keySets.set(id, keySet);
    }
    return keySet;
  }

  private createKeySet(trusted: TrustedIssuer): IssuerKeySet {
    const { deadlineMs, maxBytes } = this.limits;
    const source = trusted.jwksUrl ?? `the jwks_uri of ${discoveryUrl(trusted.issuer)}`;
    let discovered: string | undefined;
    return new IssuerKeySet({
      name: trusted.name,
      source,
      cooldownMs: trusted.jwksCooldownSeconds * 1000,
      fetchDocument: async () => {
        // One deadline for the whole load: discovery and the JWKS together.
        const signal = AbortSignal.timeout(deadlineMs);
        const url = trusted.jwksUrl ?? (discovered ??= await discoverJwksUrl(trusted.issuer, signal, maxBytes));
        try {
          return await fetchJsonDocument(url, signal, maxBytes);
        } catch (error) {
          // The issuer may have moved its keys: discover again next time.
          discovered = undefined;
          throw error;
        }
      },
      onRefreshError: (error) =>
        this.logger.warn(
          `Could not refresh the signing keys of issuer ${trusted.name} from ${source}; the cached ones stay in use: ${
            (error as Error).message
          }`,
        ),
    });
  }

  /**
   * After a policy reload, forget every verification (an issuer may be gone, or accept other audiences)
   * and drop the key sets of issuers no longer trusted (or configured differently).
   */
  private forgetUntrustedIssuers(issuers: readonly TrustedIssuer[]): void {
    if (issuers === this.issuersSeen) return;
    this.issuersSeen = issuers;
    this.verified.clear();
    const current = new Set(issuers.map(keySetId));
    for (const id of this.keySets.keys()) {
      if (!current.has(id)) this.keySets.delete(id);
    }
  }
}

/** Key sets are shared by issuers whose keys come from the same place under the same cooldown. */
function keySetId(trusted: TrustedIssuer): string {
  return JSON.stringify([trusted.issuer, trusted.jwksUrl ?? null, trusted.jwksCooldownSeconds]);
}
