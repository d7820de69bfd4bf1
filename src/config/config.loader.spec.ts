import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseDatabaseUrl, readEnvironment, type Env } from './config.loader.js';

function keyFile(content?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rts-config-'));
  const path = join(dir, 'app.pem');
  const pem =
    content ??
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  writeFileSync(path, pem, { mode: 0o600 });
  return path;
}

let sharedKeyPath: string | undefined;

function productionEnv(overrides: Env = {}): Env {
  sharedKeyPath ??= keyFile();
  return {
    GITHUB_APP_ID: '123456',
    GITHUB_APP_INSTALLATION_ID: '12345678',
    GITHUB_APP_PRIVATE_KEY_PATH: sharedKeyPath,
    GITHUB_ORG: 'my-org',
    OIDC_ISSUER: 'https://auth.example.com',
    OIDC_AUDIENCE: 'runner-token-service',
    OIDC_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/rts',
    ...overrides,
  };
}

function problemsOf(env: Env, options = {}): string[] {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('reads a complete production environment with the documented defaults', () => {
    const config = loadConfig(productionEnv({ LOG_LEVEL: 'INFO' }));
    expect(config.app).toEqual({ port: 8000, host: '0.0.0.0', logLevel: 'info', prettyLogs: false, demo: false, trustProxy: false, requestDeadlineMs: 15_000, shutdownDrainSeconds: 5 });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/rts' });
    expect(config.auth).toMatchObject({ enabled: true, userClaim: 'email', audience: 'runner-token-service' });
    expect(config.github).toMatchObject({
      apiUrl: 'https://api.github.com',
      appId: '123456',
      installationId: 12345678,
      org: 'my-org',
      runnerGroupId: 1,
      systemLabels: ['self-hosted', 'linux', 'x64'],
      requestTimeoutMs: 10_000,
      maxConcurrency: 16,
      jitConfigPerMinute: 150,
      simulated: false,
    });
    expect(config.github.privateKey).toContain('PRIVATE KEY');
  });

  it('reads the GitHub call limits: at least one call at a time, and 0 turns the JIT configs a minute off', () => {
    const github = loadConfig(productionEnv({ GITHUB_MAX_CONCURRENCY: '1', GITHUB_JITCONFIG_PER_MINUTE: '0' })).github;
    expect(github).toMatchObject({ maxConcurrency: 1, jitConfigPerMinute: 0 });
    expect(problemsOf(productionEnv({ GITHUB_MAX_CONCURRENCY: '0', GITHUB_JITCONFIG_PER_MINUTE: '-5' }))).toEqual([
      'GITHUB_MAX_CONCURRENCY must be a whole number at least 1 and at most 100 (got "0")',
      'GITHUB_JITCONFIG_PER_MINUTE must be a whole number at least 0 (got "-5")',
    ]);
  });

  it('names every missing variable at once, with what it expects', () => {
    const problems = problemsOf({});
    const named = problems.map((problem) => problem.split(' ')[0]);
    expect(named).toEqual(
      expect.arrayContaining([
        'OIDC_ISSUER',
        'OIDC_AUDIENCE',
        'GITHUB_APP_ID',
        'GITHUB_APP_INSTALLATION_ID',
        'GITHUB_ORG',
        'GITHUB_APP_PRIVATE_KEY_PATH',
        'DATABASE_URL',
      ]),
    );
    expect(problems.find((problem) => problem.startsWith('GITHUB_APP_INSTALLATION_ID'))).toContain('whole number');
  });

  it('does not require OIDC_JWKS_URL: the keys are then discovered from the issuer', () => {
    const problems = problemsOf({});
    expect(problems.map((problem) => problem.split(' ')[0])).not.toContain('OIDC_JWKS_URL');
    expect(loadConfig(productionEnv({ OIDC_JWKS_URL: undefined })).auth).toMatchObject({
      issuer: 'https://auth.example.com',
      jwksUrl: '',
    });
  });

  it('refuses an issuer that is not an https URL when its keys are to be discovered', () => {
    const problems = problemsOf(productionEnv({ OIDC_JWKS_URL: undefined, OIDC_ISSUER: 'http://auth.example.com' }));
    expect(problems).toEqual([
      expect.stringMatching(/^OIDC_ISSUER must be an https URL, because without OIDC_JWKS_URL the keys are found through/),
    ]);
    expect(problemsOf(productionEnv({ OIDC_JWKS_URL: undefined, OIDC_ISSUER: 'http://127.0.0.1:9000' }))).toEqual([]);
  });

  it('does not require the OIDC_* shorthand when POLICY_FILE names the trusted issuers, but wants it whole', () => {
    const withoutShorthand = productionEnv({ POLICY_FILE: '/etc/rts/policy.yaml', OIDC_ISSUER: '', OIDC_AUDIENCE: '', OIDC_JWKS_URL: '' });
    expect(loadConfig(withoutShorthand).auth).toMatchObject({ enabled: true, issuer: '', policyFile: '/etc/rts/policy.yaml' });

    const half = problemsOf({ ...withoutShorthand, OIDC_ISSUER: 'https://auth.example.com' });
    expect(half).toEqual([expect.stringMatching(/^OIDC_AUDIENCE is required with the other OIDC_\* variables/)]);
  });

  it('does not require OIDC settings when ENABLE_OIDC_AUTH=false', () => {
    const env = productionEnv({ ENABLE_OIDC_AUTH: 'false', OIDC_ISSUER: '', OIDC_AUDIENCE: '', OIDC_JWKS_URL: '' });
    expect(loadConfig(env).auth.enabled).toBe(false);
  });

  it('rejects bad values and says what was given', () => {
    const problems = problemsOf(
      productionEnv({ PORT: 'eighty', ENABLE_OIDC_AUTH: 'maybe', GITHUB_API_URL: 'ftp://x', OIDC_CLOCK_TOLERANCE_SECONDS: '300' }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^PORT must be a whole number .*"eighty"/),
        expect.stringMatching(/^ENABLE_OIDC_AUTH must be true or false/),
        expect.stringMatching(/^GITHUB_API_URL must be an https URL/),
        expect.stringMatching(/^OIDC_CLOCK_TOLERANCE_SECONDS .*at most 60/),
      ]),
    );
  });

  it.each(['OIDC_JWKS_URL', 'GITHUB_API_URL'])('refuses a plain http %s to another host, saying why', (name) => {
    const problems = problemsOf(productionEnv({ [name]: 'http://auth.example.com/jwks' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name} must be an https URL, because anyone on the path could`));
    expect(problems[0]).toContain('http is accepted only for localhost, 127.0.0.0/8 and [::1]');
    expect(problems[0]).toContain('got "http://auth.example.com/jwks"');
  });

  it.each([
    'http://localhost:8080/jwks',
    'http://127.0.0.1:8080/jwks',
    'http://127.45.6.7/jwks',
    'http://[::1]:8080/jwks',
  ])('accepts plain http to loopback (%s) for tests, the demo and the simulator', (url) => {
    expect(problemsOf(productionEnv({ OIDC_JWKS_URL: url, GITHUB_API_URL: url }))).toEqual([]);
  });

  it.each(['http://127.0.0.1.example.com/jwks', 'http://10.0.0.1/jwks', 'http://[::2]/jwks', 'not a url'])(
    'does not take %s for loopback',
    (url) => {
      const problems = problemsOf(productionEnv({ OIDC_JWKS_URL: url, GITHUB_API_URL: url }));
      expect(problems.map((problem) => problem.split(' ')[0])).toEqual(['OIDC_JWKS_URL', 'GITHUB_API_URL']);
    },
  );

  it('accepts an OIDC_ISSUER that is not a URL', () => {
    expect(loadConfig(productionEnv({ OIDC_ISSUER: 'my-issuer' })).auth.issuer).toBe('my-issuer');
  });

  it('accepts 99 system labels and refuses 100, which would leave no room for a caller label', () => {
    const labels = (count: number) => Array.from({ length: count }, (_, i) => `label-${i}`).join(',');
    expect(loadConfig(productionEnv({ RUNNER_SYSTEM_LABELS: labels(99) })).github.systemLabels).toHaveLength(99);
    expect(problemsOf(productionEnv({ RUNNER_SYSTEM_LABELS: labels(100) }))).toEqual([
      expect.stringMatching(/^RUNNER_SYSTEM_LABELS must list at most 99 labels, leaving room for one of the caller's/),
    ]);
  });

  it('refuses a key file that is not a PEM private key, without echoing it', () => {
    const problems = problemsOf(productionEnv({ GITHUB_APP_PRIVATE_KEY_PATH: keyFile('not-a-key-SECRET') }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^GITHUB_APP_PRIVATE_KEY_PATH must name a PEM private key/);
    expect(problems[0]).not.toContain('SECRET');
  });

  it('reports a key path that does not exist', () => {
    const problems = problemsOf(productionEnv({ GITHUB_APP_PRIVATE_KEY_PATH: '/nonexistent/key.pem' }));
    expect(problems).toEqual([expect.stringMatching(/^GITHUB_APP_PRIVATE_KEY_PATH cannot be read \(ENOENT\)/)]);
  });

  it('leaves webhooks off without GITHUB_WEBHOOK_SECRET, and takes a long enough one', () => {
    expect(loadConfig(productionEnv()).github.webhookSecret).toBeUndefined();
    const secret = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    expect(loadConfig(productionEnv({ GITHUB_WEBHOOK_SECRET: secret })).github.webhookSecret).toBe(secret);
  });

  it('refuses a GITHUB_WEBHOOK_SECRET shorter than 16 characters, without echoing it', () => {
    const problems = problemsOf(productionEnv({ GITHUB_WEBHOOK_SECRET: 'SECRET-short' }));
    expect(problems).toEqual([expect.stringMatching(/^GITHUB_WEBHOOK_SECRET must be at least 16 characters/)]);
    expect(problems[0]).not.toContain('SECRET-short');
  });

  it('keeps a GHES API URL without its trailing slash', () => {
    expect(loadConfig(productionEnv({ GITHUB_API_URL: 'https://ghe.example.com/api/v3/' })).github.apiUrl).toBe(
      'https://ghe.example.com/api/v3',
    );
  });

  it('runs the demo with nothing set: in-memory PGlite, OIDC off, simulated GitHub', () => {
    const config = loadConfig({}, { demo: true });
    expect(config.database).toEqual({ kind: 'pglite', dataDir: undefined });
    expect(config.auth.enabled).toBe(false);
    expect(config.github.simulated).toBe(true);
    expect(config.app.prettyLogs).toBe(true);
    expect(config.app.host).toBe('127.0.0.1');
  });
});

describe('rate limits', () => {
  it('limits 600 requests a minute per address and 120 per identity unless told otherwise', () => {
    expect(loadConfig(productionEnv()).rateLimit).toEqual({ perIpPerMinute: 600, perIdentityPerMinute: 120 });
    expect(
      loadConfig(productionEnv({ RATE_LIMIT_PER_IP_PER_MINUTE: '3000', RATE_LIMIT_PER_IDENTITY_PER_MINUTE: '30' })).rateLimit,
    ).toEqual({ perIpPerMinute: 3000, perIdentityPerMinute: 30 });
  });

  it('turns one off with 0, leaving the other', () => {
    expect(loadConfig(productionEnv({ RATE_LIMIT_PER_IDENTITY_PER_MINUTE: '0' })).rateLimit).toEqual({
      perIpPerMinute: 600,
      perIdentityPerMinute: 0,
    });
  });

  it('turns both off in the demo, unless set', () => {
    expect(loadConfig({}, { demo: true }).rateLimit).toEqual({ perIpPerMinute: 0, perIdentityPerMinute: 0 });
    expect(loadConfig({ RATE_LIMIT_PER_IP_PER_MINUTE: '50' }, { demo: true }).rateLimit.perIpPerMinute).toBe(50);
  });

  it.each(['-1', 'many', '1.5', '10000001'])('refuses %s, naming the variable', (value) => {
    expect(problemsOf(productionEnv({ RATE_LIMIT_PER_IP_PER_MINUTE: value, RATE_LIMIT_PER_IDENTITY_PER_MINUTE: value }))).toEqual([
      `RATE_LIMIT_PER_IP_PER_MINUTE must be a whole number at least 0 and at most 1000000 (got "${value}")`,
      `RATE_LIMIT_PER_IDENTITY_PER_MINUTE must be a whole number at least 0 and at most 1000000 (got "${value}")`,
    ]);
  });
});

describe('METRICS_TOKEN', () => {
  it('refuses a token shorter than 16 characters, without echoing it', () => {
    const problems = problemsOf(productionEnv({ METRICS_TOKEN: 'short-secret' }));
    expect(problems).toEqual(['METRICS_TOKEN must be at least 16 characters (make one with: openssl rand -hex 32)']);
    expect(loadConfig(productionEnv({ METRICS_TOKEN: 'a-long-enough-scrape-token' })).metrics.token).toBe('a-long-enough-scrape-token');
  });
});

describe('AUDIT_EVENT_SOURCE', () => {
  const database = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/rts' };

  it('defaults to urn:runner-token-service:<GITHUB_ORG>, or without the org when GITHUB_ORG is not set or not a login', () => {
    expect(loadConfig(productionEnv()).audit).toEqual({ eventSource: 'urn:runner-token-service:my-org' });
    expect(loadConfig({ ...database, GITHUB_ORG: 'acme' }, { scope: 'database' }).audit.eventSource).toBe('urn:runner-token-service:acme');
    expect(loadConfig(database, { scope: 'database' }).audit.eventSource).toBe('urn:runner-token-service');
    expect(loadConfig({ ...database, GITHUB_ORG: 'not an org' }, { scope: 'database' }).audit.eventSource).toBe('urn:runner-token-service');
  });

  it('takes an absolute URI', () => {
    for (const source of ['https://rts.example.com/eu', 'urn:rts:prod', '  urn:rts:trimmed  ']) {
      expect(loadConfig({ ...database, AUDIT_EVENT_SOURCE: source }, { scope: 'database' }).audit.eventSource).toBe(source.trim());
    }
  });

  it.each(['runner-token-service', '/relative/path', 'urn:has space', 'https://'])('refuses %j, saying what it takes', (source) => {
    expect(problemsOf({ ...database, AUDIT_EVENT_SOURCE: source }, { scope: 'database' })).toEqual([
      `AUDIT_EVENT_SOURCE must be an absolute URI such as urn:runner-token-service:prod-eu or https://rts.example.com (got "${source}")`,
    ]);
  });
});

describe('runners this service did not issue, and JIT start timeout', () => {
  it('defaults to reporting foreign runners, no known names, and 60 minutes to start a JIT runner', () => {
    expect(loadConfig(productionEnv()).runners).toMatchObject({ jitStartTimeoutMinutes: 60, knownRunnerNames: [], foreignRunners: 'report' });
  });

  it('reads KNOWN_RUNNER_NAMES as whole-name patterns, FOREIGN_RUNNERS=remove and JIT_START_TIMEOUT_MINUTES', () => {
    const runners = loadConfig(
      productionEnv({ KNOWN_RUNNER_NAMES: 'arc-.*, build-[a-z]{2,4}', FOREIGN_RUNNERS: 'REMOVE', JIT_START_TIMEOUT_MINUTES: '15' }),
    ).runners;
    expect(runners).toMatchObject({ jitStartTimeoutMinutes: 15, foreignRunners: 'remove' });
    expect(runners.knownRunnerNames.map((pattern) => pattern.source)).toEqual(['^(?:arc-.*)$', '^(?:build-[a-z]{2,4})$']);
  });

  it('refuses a bad KNOWN_RUNNER_NAMES pattern at start, quoting it and saying why', () => {
    const problems = problemsOf(productionEnv({ KNOWN_RUNNER_NAMES: 'arc-.*,(a+)+,[z-a]' }));
    expect(problems).toEqual([
      expect.stringMatching(/^KNOWN_RUNNER_NAMES has the pattern "\(a\+\)\+": a repeated group that itself repeats/),
      expect.stringMatching(/^KNOWN_RUNNER_NAMES has the pattern "\[z-a\]": invalid regular expression/),
    ]);
  });

  it.each([
    ['JIT_START_TIMEOUT_MINUTES', '0', /^JIT_START_TIMEOUT_MINUTES must be a whole number at least 1 and at most 1440 \(got "0"\)$/],
    ['JIT_START_TIMEOUT_MINUTES', '1441', /at most 1440 \(got "1441"\)$/],
    ['FOREIGN_RUNNERS', 'delete', /^FOREIGN_RUNNERS must be report .* or remove .*; got "delete"$/],
  ])('refuses %s=%s, saying what it takes', (name, value, message) => {
    expect(problemsOf(productionEnv({ [name]: value }))).toEqual([expect.stringMatching(message)]);
  });
});

describe('unsafe settings outside the demo', () => {
  const withoutAuth = (overrides: Env = {}) =>
    productionEnv({ ENABLE_OIDC_AUTH: 'false', OIDC_ISSUER: '', OIDC_AUDIENCE: '', OIDC_JWKS_URL: '', ...overrides });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'rts.example.com'])(
    'refuses HOST=%s with authentication off, naming HOST, ENABLE_OIDC_AUTH and ALLOW_UNAUTHENTICATED_NETWORK',
    (host) => {
      const problems = problemsOf(withoutAuth({ HOST: host }));
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^HOST is "${host}", not loopback, while ENABLE_OIDC_AUTH=false`));
      expect(problems[0]).toContain('HOST=127.0.0.1');
      expect(problems[0]).toContain('ALLOW_UNAUTHENTICATED_NETWORK=true');
    },
  );

  it('refuses a network HOST in the demo too, whose authentication is off', () => {
    expect(problemsOf({ HOST: '0.0.0.0' }, { demo: true })).toEqual([expect.stringMatching(/^HOST is "0.0.0.0", not loopback/)]);
  });

  it('listens on 127.0.0.1 when authentication is off and HOST is unset, as the demo does', () => {
    expect(loadConfig(withoutAuth()).app.host).toBe('127.0.0.1');
  });

  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1'])('accepts the loopback HOST=%s with authentication off', (host) => {
    expect(loadConfig(withoutAuth({ HOST: host })).app.host).toBe(host);
  });

  it('accepts a network HOST with authentication off when ALLOW_UNAUTHENTICATED_NETWORK=true says the operator means it', () => {
    const config = loadConfig(withoutAuth({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_NETWORK: 'true' }));
    expect(config.app.host).toBe('0.0.0.0');
    expect(config.auth.enabled).toBe(false);
  });

  it('refuses an ALLOW_UNAUTHENTICATED_NETWORK that is not a boolean', () => {
    expect(problemsOf(withoutAuth({ HOST: '0.0.0.0', ALLOW_UNAUTHENTICATED_NETWORK: 'sure' }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ALLOW_UNAUTHENTICATED_NETWORK must be true or false/)]),
    );
  });

  it('does not check HOST for the CLI, which never listens and never verifies tokens', () => {
    expect(problemsOf({ DATABASE_URL: 'pglite://memory', HOST: '0.0.0.0' }, { scope: 'database' })).toEqual([]);
  });

  it('refuses an unset DATABASE_URL, naming postgres:// for production and pglite://./data asked for by name', () => {
    const problems = problemsOf(productionEnv({ DATABASE_URL: undefined }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DATABASE_URL is required/);
    expect(problems[0]).toContain('postgres://');
    expect(problems[0]).toContain('pglite://./data');
  });

  it('refuses an unset DATABASE_URL for the CLI commands that use the database', () => {
    expect(problemsOf({}, { scope: 'database' })).toEqual([expect.stringMatching(/^DATABASE_URL is required/)]);
  });

  it('takes pglite://./data when it is asked for by name', () => {
    expect(loadConfig(productionEnv({ DATABASE_URL: 'pglite://./data' })).database).toEqual({ kind: 'pglite', dataDir: './data' });
  });

  it('needs no DATABASE_URL for check-policy, which touches no database', () => {
    expect(problemsOf({}, { scope: 'policy' })).toEqual([]);
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    ['false', false],
    ['true', true],
    ['1', 1],
    ['loopback, 10.0.0.0/8', ['loopback', '10.0.0.0/8']],
  ])('reads %s', (raw, expected) => {
    expect(loadConfig(productionEnv({ TRUST_PROXY: raw })).app.trustProxy).toEqual(expected);
  });

  it('rejects anything else, naming the forms it takes', () => {
    expect(problemsOf(productionEnv({ TRUST_PROXY: 'my proxy' }))).toEqual([
      expect.stringMatching(/^TRUST_PROXY must be false, true, a number of proxy hops/),
    ]);
  });
});

describe('parseDatabaseUrl', () => {
  it.each([
    ['postgres://u:p@h:5432/db', { kind: 'postgres', url: 'postgres://u:p@h:5432/db' }],
    ['postgresql://h/db', { kind: 'postgres', url: 'postgresql://h/db' }],
    ['pglite://./data', { kind: 'pglite', dataDir: './data' }],
    ['pglite:///var/lib/rts', { kind: 'pglite', dataDir: '/var/lib/rts' }],
    ['pglite://memory', { kind: 'pglite', dataDir: undefined }],
  ])('accepts %s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it("answers the seed's sqlite:// with the alternatives", () => {
    const message = parseDatabaseUrl('sqlite:///./runner_service.db');
    expect(message).toMatch(/SQLite is not supported/);
    expect(message).toContain('postgres://');
    expect(message).toContain('pglite://memory');
  });

  it('rejects an unknown scheme', () => {
    expect(parseDatabaseUrl('mysql://h/db')).toMatch(/unknown scheme "mysql"/);
  });
});

describe('readEnvironment', () => {
  it('reads .env from the working directory, and the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-dotenv-'));
    writeFileSync(join(dir, '.env'), 'RTS_TEST_FROM_FILE=file\nRTS_TEST_BOTH=file\n');
    process.env.RTS_TEST_BOTH = 'environment';
    try {
      const env = readEnvironment(dir);
      expect(env.RTS_TEST_FROM_FILE).toBe('file');
      expect(env.RTS_TEST_BOTH).toBe('environment');
    } finally {
      delete process.env.RTS_TEST_BOTH;
    }
  });

  it('leaves .env out when asked (the demo must not pick up a real deployment\'s settings)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-dotenv-'));
    writeFileSync(join(dir, '.env'), 'RTS_TEST_FROM_FILE=file\n');
    expect(readEnvironment(dir, { dotenv: false }).RTS_TEST_FROM_FILE).toBeUndefined();
  });

  it('works without a .env file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-dotenv-'));
    expect(readEnvironment(dir).RTS_TEST_FROM_FILE).toBeUndefined();
  });
});
