/**
 * Several trusted issuers at once, and their key sets: forged kids cannot spend the fetch budget,
 * rotation works once the cooldown has passed, untrusted issuers cost no fetch, and slow, failing
 * or oversized key endpoints cannot hold requests or replace good keys.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { PROBE_PATH, startAuthApp, type AuthApp } from './support/auth-app.js';
import {
  corporateClaims,
  GITHUB_ACTIONS_ISSUER,
  githubActionsClaims,
  kubernetesClaims,
  TestOidcProvider,
} from './support/oidc.js';

const HOUR = 3600;
/** Long enough that no second fetch can be due to the cooldown running out during a test. */
const LONG_COOLDOWN = 24 * HOUR;
/** Short, for the tests that wait for the cooldown to pass. */
const SHORT_COOLDOWN = 1;

const probe = (t: AuthApp, token: string) => request(t.server).get(PROBE_PATH).auth(token, { type: 'bearer' });
const forgedKid = () => `forged-${randomBytes(6).toString('hex')}`;
const waitForCooldown = () => new Promise((resolve) => setTimeout(resolve, SHORT_COOLDOWN * 1000 + 200));

describe('trusted issuers (e2e)', () => {
  const providers: TestOidcProvider[] = [];
  const apps: AuthApp[] = [];

  async function provider(options?: Parameters<typeof TestOidcProvider.start>[0]): Promise<TestOidcProvider> {
    const started = await TestOidcProvider.start(options);
    providers.push(started);
    return started;
  }

  async function app(options: Parameters<typeof startAuthApp>[0]): Promise<AuthApp> {
    const started = await startAuthApp(options);
    apps.push(started);
    return started;
  }

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((started) => started.close()));
    await Promise.all(providers.splice(0).map((started) => started.stop()));
  });

  it('keeps answering valid callers while 1,000 tokens with random kids arrive, fetching the JWKS once', async () => {
    const oidc = await provider();
    const t = await app({ issuers: [oidc.trustedIssuer({ jwksCooldownSeconds: LONG_COOLDOWN })] });
    const validStatuses: number[] = [];

    for (let i = 0; i < 1000; i += 1) {
      const forged = await probe(t, await oidc.token({}, { kid: forgedKid() }));
      expect(forged.status).toBe(401);
      if (i % 50 === 49) validStatuses.push((await probe(t, await oidc.token())).status);
    }

    expect(validStatuses).toEqual(Array(20).fill(200));
    expect(oidc.jwksRequests).toBe(1);
  }, 120_000);

  it('refuses forged kids as unknown keys and samples them into the audit trail', async () => {
    const oidc = await provider();
    const t = await app({ issuers: [oidc.trustedIssuer({ jwksCooldownSeconds: LONG_COOLDOWN })] });

    const responses = await Promise.all(
      Array.from({ length: 50 }, async () => probe(t, await oidc.token({ sub: 'mallory' }, { kid: forgedKid() }))),
    );

    expect(responses.map((response) => response.body.error.details.reason)).toEqual(Array(50).fill('key_unknown'));
    const audited = t.audit.events.filter((event) => event.action === 'authenticate');
    expect(audited.length).toBeGreaterThanOrEqual(1);
    expect(audited.length).toBeLessThan(25);
    expect(audited[0]).toMatchObject({
      outcome: 'denied',
      details: { reason: 'key_unknown', iss: oidc.issuer, sub: 'mallory' },
      actor: { kind: 'user', issuer: '', subject: 'anonymous', name: 'anonymous' },
    });
  });

  it('accepts tokens signed with a rotated key once the cooldown has passed', async () => {
    const oidc = await provider();
    const t = await app({ issuers: [oidc.trustedIssuer({ jwksCooldownSeconds: SHORT_COOLDOWN })] });
    await probe(t, await oidc.token()).expect(200);

    await oidc.rotateKey({ dropOld: true });
    await waitForCooldown();

    await probe(t, await oidc.token()).expect(200);
    expect(oidc.jwksRequests).toBe(2);
  });

  it('keeps the last good key set when a refetch fails', async () => {
    const oidc = await provider();
    const t = await app({ issuers: [oidc.trustedIssuer({ jwksCooldownSeconds: SHORT_COOLDOWN })] });
    await probe(t, await oidc.token()).expect(200);
    oidc.jwksMode = 'fail';
    await waitForCooldown();

    const unknown = await probe(t, await oidc.token({}, { kid: forgedKid() })).expect(401);

    expect(unknown.body.error.details.reason).toBe('key_unknown');
    expect(oidc.jwksRequests).toBe(2);
    await probe(t, await oidc.token()).expect(200);
  });

  it('refuses a token of an issuer it does not trust before fetching any key', async () => {
    const trusted = await provider();
    const untrusted = await provider();
    const t = await app({ issuers: [trusted.trustedIssuer()] });

    const response = await probe(t, await untrusted.token()).expect(401);

    expect(response.body.error).toMatchObject({ code: 'TOKEN_INVALID', details: { reason: 'issuer_unknown' } });
    // The token's iss is untrusted's URL: neither its JWKS nor its discovery document was asked for.
    expect([untrusted.jwksRequests, untrusted.discoveryRequests, trusted.jwksRequests]).toEqual([0, 0, 0]);
  });

  it.each([
    ['drips its JWKS one byte at a time', 'drip', 'no complete answer before the deadline'],
    ['answers HTTP 500', 'fail', 'answered HTTP 500'],
    ['serves a JWKS larger than 1 MiB', 'huge', 'larger than the 1048576 bytes accepted'],
  ] as const)('answers 503 AUTH_UNAVAILABLE when the issuer %s and no keys are cached', async (_case, mode, cause) => {
    const oidc = await provider();
    oidc.jwksMode = mode;
    const t = await app({ issuers: [oidc.trustedIssuer()], fetchLimits: { deadlineMs: 1_000 } });

    const response = await probe(t, await oidc.token()).expect(503);

    expect(response.body.error).toMatchObject({ code: 'AUTH_UNAVAILABLE', details: { reason: 'keys_unavailable' } });
    expect(JSON.stringify(response.body)).not.toContain(oidc.jwksUrl);
    expect(t.logger.messages('warn')).toContainEqual(expect.stringContaining(cause));
  });

  it('accepts tokens of three issuers at once, each named by its own display claim', async () => {
    const github = await provider({ issuer: GITHUB_ACTIONS_ISSUER });
    const kubernetes = await provider({ issuer: 'https://kubernetes.default.svc.cluster.local' });
    const corporate = await provider();
    const t = await app({
      issuers: [
        github.trustedIssuer({ name: 'github-actions', displayClaim: 'job_workflow_ref', publicIssuer: true }),
        kubernetes.trustedIssuer({ name: 'cluster', displayClaim: 'sub' }),
        // No jwksUrl: found through its discovery document.
        corporate.trustedIssuer({ name: 'corp', jwksUrl: undefined }),
      ],
    });

    const job = await probe(t, await github.token(githubActionsClaims({ owner: 'acme', repo: 'widgets', run_id: 99 })));
    const pod = await probe(t, await kubernetes.token(kubernetesClaims('ci', 'builder')));
    const person = await probe(t, await corporate.token(corporateClaims({ email: 'ada@corp.example', email_verified: true })));

    expect(job.body).toMatchObject({
      issuer: GITHUB_ACTIONS_ISSUER,
      issuer_name: 'github-actions',
      subject: 'repo:acme/widgets:ref:refs/heads/main',
      name: 'acme/widgets/.github/workflows/ci.yml@refs/heads/main',
    });
    expect(pod.body).toMatchObject({ issuer_name: 'cluster', name: 'system:serviceaccount:ci:builder' });
    expect(person.body).toMatchObject({ issuer: corporate.issuer, issuer_name: 'corp', name: 'ada@corp.example' });
    expect([github.jwksRequests, kubernetes.jwksRequests, corporate.jwksRequests]).toEqual([1, 1, 1]);
    expect(corporate.discoveryRequests).toBe(1);
  });

  it("refuses a token signed by another trusted issuer's key", async () => {
    const first = await provider();
    const second = await provider();
    const t = await app({ issuers: [first.trustedIssuer({ name: 'first' }), second.trustedIssuer({ name: 'second' })] });

    const response = await probe(t, await second.token({}, { issuer: first.issuer, kid: first.kid })).expect(401);

    expect(response.body.error.details.reason).toBe('signature');
  });

  it('names the caller by sub when the email display claim is not verified', async () => {
    const oidc = await provider();
    const t = await app({ issuers: [oidc.trustedIssuer()] });

    const unverified = await probe(t, await oidc.token(corporateClaims({ email: 'ceo@corp.example', email_verified: false, sub: 'u-1' })));
    const unstated = await probe(t, await oidc.token(corporateClaims({ email: 'ada@corp.example', sub: 'u-2' })));

    expect(unverified.body).toMatchObject({ subject: 'u-1', name: 'u-1' });
    expect(unstated.body).toMatchObject({ subject: 'u-2', name: 'ada@corp.example' });
  });

  it('answers 503 when the discovery document names another issuer', async () => {
    const oidc = await provider();
    oidc.discoveryIssuer = 'https://impostor.example';
    const t = await app({ issuers: [oidc.trustedIssuer({ jwksUrl: undefined })] });

    await probe(t, await oidc.token()).expect(503);

    expect(oidc.jwksRequests).toBe(0);
    expect(t.logger.messages('warn')).toContainEqual(expect.stringContaining('names another issuer'));
  });

  it('follows a policy reload: a removed issuer is refused, an added one accepted', async () => {
    const kept = await provider();
    const added = await provider();
    const t = await app({ issuers: [kept.trustedIssuer({ name: 'kept' })] });
    const fromAdded = await added.token();
    const fromKept = await kept.token();
    await probe(t, fromAdded).expect(401);
    await probe(t, fromKept).expect(200);

    t.setIssuers([added.trustedIssuer({ name: 'added' })]);

    await probe(t, fromAdded).expect(200);
    // Also a token accepted a moment ago: a verification does not outlive its issuer's trust.
    for (const token of [fromKept, await kept.token()]) {
      const refused = await probe(t, token).expect(401);
      expect(refused.body.error.details.reason).toBe('issuer_unknown');
    }
  });

  it('refuses a token without kid when the issuer publishes several keys', async () => {
    const oidc = await provider();
    await oidc.rotateKey();
    const t = await app({ issuers: [oidc.trustedIssuer()] });

    const response = await probe(t, await oidc.token({}, { kid: null })).expect(401);

    expect(response.body.error.details.reason).toBe('kid_invalid');
  });

  it('logs at start which issuers it trusts, by name and iss', async () => {
    const github = await provider({ issuer: GITHUB_ACTIONS_ISSUER });
    const t = await app({ issuers: [github.trustedIssuer({ name: 'github-actions' })] });

    expect(t.logger.messages('log')).toContainEqual(
      expect.stringContaining(`trusted issuers: github-actions (${GITHUB_ACTIONS_ISSUER})`),
    );
  });
});
