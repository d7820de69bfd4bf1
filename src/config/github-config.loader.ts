import { readFileSync } from 'node:fs';
import type { GithubConfig } from './app-config.js';
import { GITHUB_ORG_LOGIN } from './audit-settings.js';
import type { EnvReader } from './env-reader.js';

/** The GitHub App and organization settings (GITHUB_*, RUNNER_SYSTEM_LABELS), read for loadConfig. */

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';
export const DEFAULT_SYSTEM_LABELS = ['self-hosted', 'linux', 'x64'];
/** GitHub answers well within this; a hung connection must not hold a caller for longer. */
export const MAX_GITHUB_TIMEOUT_MS = 10_000;
export const DEFAULT_GITHUB_MAX_CONCURRENCY = 16;
/** GitHub's secondary limit allows 100 concurrent requests per App. */
export const MAX_GITHUB_CONCURRENCY = 100;
/** GitHub's secondary limit is about 180 generate-jitconfig calls a minute per App; this leaves room. */
export const DEFAULT_JITCONFIG_PER_MINUTE = 150;
/** A webhook secret shorter than this is guessable from one signed delivery. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;
/** GitHub registers at most 100 labels on a runner; the system labels leave room for one of the caller's. */
export const MAX_SYSTEM_LABELS = 99;
/** GITHUB_MAX_CONCURRENCY and GITHUB_JITCONFIG_PER_MINUTE with nothing set, for code that builds a GithubConfig itself. */
export const DEFAULT_GITHUB_LIMITS: Pick<GithubConfig, 'maxConcurrency' | 'jitConfigPerMinute'> = {
  maxConcurrency: DEFAULT_GITHUB_MAX_CONCURRENCY,
  jitConfigPerMinute: DEFAULT_JITCONFIG_PER_MINUTE,
};

export function readGithub(reader: EnvReader, demo: boolean): GithubConfig {
  const common = {
    runnerGroupId: reader.integer('GITHUB_RUNNER_GROUP_ID', 1, { min: 1 }),
    systemLabels: readSystemLabels(reader),
    requestTimeoutMs: reader.integer('GITHUB_REQUEST_TIMEOUT_MS', MAX_GITHUB_TIMEOUT_MS, {
      min: 100,
      max: MAX_GITHUB_TIMEOUT_MS,
    }),
    maxConcurrency: reader.integer('GITHUB_MAX_CONCURRENCY', DEFAULT_GITHUB_MAX_CONCURRENCY, { min: 1, max: MAX_GITHUB_CONCURRENCY }),
    jitConfigPerMinute: reader.integer('GITHUB_JITCONFIG_PER_MINUTE', DEFAULT_JITCONFIG_PER_MINUTE, { min: 0 }),
    webhookSecret: readWebhookSecret(reader),
  };
  if (demo) {
    // The built-in simulator supplies the URL, App and key when it starts (main.ts).
    return { ...common, apiUrl: '', appId: '', installationId: 0, privateKey: '', org: '', simulated: true };
  }
  const apiUrl = (reader.string('GITHUB_API_URL') ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '');
  reader.httpsUrl('GITHUB_API_URL', apiUrl, 'anyone on the path could read the installation token');
  const appId = reader.string('GITHUB_APP_ID');
  if (!appId) reader.problem('GITHUB_APP_ID', 'is required: the GitHub App ID (or its client ID)');
  const installationId = reader.integer('GITHUB_APP_INSTALLATION_ID', undefined, { min: 1 });
  const org = reader.string('GITHUB_ORG');
  if (!org) reader.problem('GITHUB_ORG', 'is required: the organization runners are registered in');
  else if (!GITHUB_ORG_LOGIN.test(org)) {
    reader.problem('GITHUB_ORG', 'must be a GitHub organization login (letters, digits and -)');
  }
  else if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(org)) {
    reader.problem('GITHUB_ORG', 'must be a GitHub organization login (letters, digits and -)');
  }
  return {
    ...common,
    apiUrl,
    appId: appId ?? '',
    installationId: installationId ?? 0,
    privateKey: readPrivateKey(reader),
    org: org ?? '',
    simulated: false,
  };
}

/** Optional; when set, long enough that one signed delivery does not give it away. Never echoed. */
function readWebhookSecret(reader: EnvReader): string | undefined {
  const secret = reader.string('GITHUB_WEBHOOK_SECRET');
  if (secret !== undefined && secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    reader.problem(
      'GITHUB_WEBHOOK_SECRET',
      `must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters (make one with: openssl rand -hex 32), or be left unset to turn webhooks off`,
    );
    return undefined;
  }
  return secret;
}

function readSystemLabels(reader: EnvReader): string[] {
  const raw = reader.string('RUNNER_SYSTEM_LABELS');
  if (raw === undefined) return DEFAULT_SYSTEM_LABELS;
  const labels = raw
    .split(',')
    .map((label) => label.trim().toLowerCase())
    .filter((label) => label.length > 0);
  if (labels.some((label) => !/^[a-z0-9._:/-]{1,256}$/.test(label))) {
    reader.problem('RUNNER_SYSTEM_LABELS', 'must be comma-separated labels of letters, digits and . _ - : /');
  }
  const unique = [...new Set(labels)];
  if (unique.length > MAX_SYSTEM_LABELS) {
    reader.problem(
      'RUNNER_SYSTEM_LABELS',
      `must list at most ${MAX_SYSTEM_LABELS} labels, leaving room for one of the caller's (GitHub allows 100 on a runner; got ${unique.length})`,
    );
  }
  return unique;
}

function readPrivateKey(reader: EnvReader): string {
  const path = reader.string('GITHUB_APP_PRIVATE_KEY_PATH');
  if (!path) {
    reader.problem('GITHUB_APP_PRIVATE_KEY_PATH', "is required: the path of the GitHub App's private key (.pem)");
    return '';
  }
  let key: string;
  try {
    key = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    reader.problem('GITHUB_APP_PRIVATE_KEY_PATH', `cannot be read (${reason}): ${path}`);
    return '';
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(key)) {
    // Never echo the file's content: it may be a key in another format.
    reader.problem('GITHUB_APP_PRIVATE_KEY_PATH', `must name a PEM private key file as GitHub issues it: ${path}`);
    return '';
  }
  return key;
}
