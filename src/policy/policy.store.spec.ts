import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { EXAMPLE_AUTH_CONFIG } from '../../test/support/oidc.js';
import { EXAMPLE_POLICY_YAML, GITHUB_ISS } from '../../test/support/policy-fixtures.js';
import type { AppConfig, AuthConfig } from '../config/app-config.js';
import { PolicyError } from './policy.loader.js';
import { PolicyStore } from './policy.store.js';
import type { Policy } from './policy.types.js';

const ISS = 'https://issuer.example';
const policyWith = (ruleName: string) =>
  `issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]\nrules: [{ name: ${ruleName}, issuer: idp, claims: { sub: alice }, grant: {} }]\n`;
const BROKEN = `issuers: [{ name: idp, issuer: ${ISS}, audience: rts }]\nrules: [{ name: everyone, issuer: idp, grant: {} }]\n`;

const configWith = (auth: Partial<AuthConfig>) => ({ auth: { ...EXAMPLE_AUTH_CONFIG, ...auth } }) as AppConfig;
const ruleNames = (policy: Policy) => policy.rules?.map((rule) => rule.name);

/** Resolves once `check` holds; fails after a generous bound, so a slow machine is not a failure. */
async function eventually(check: () => boolean, what: string, boundMs = 15_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PolicyStore', () => {
  let folder: string;
  let file: string;
  let store: PolicyStore | undefined;
  let warn: jest.Spied<Logger['warn']>;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rts-policy-store-'));
    file = join(folder, 'policy.yaml');
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    store?.onModuleDestroy();
    store = undefined;
    jest.restoreAllMocks();
  });

  function start(auth: Partial<AuthConfig> = { policyFile: file }): PolicyStore {
    store = new PolicyStore(configWith(auth));
    store.onModuleInit();
    return store;
  }

  it('without POLICY_FILE keeps the seed behaviour and warns at start', () => {
    const policy = start({}).current();
    expect(policy).toMatchObject({ source: null, rules: null, issuers: [expect.objectContaining({ name: 'default', issuer: ISS })] });
    expect(store!.status()).toEqual({ source: null, loadedAt: policy.loadedAt });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('POLICY_FILE is not set'));
  });

  it("refuses to start on GitHub Actions' public issuer without a policy file", () => {
    expect(() => new PolicyStore(configWith({ issuer: GITHUB_ISS }))).toThrow(PolicyError);
  });

  it("refuses to start on a bad file, with the loader's message", () => {
    writeFileSync(file, BROKEN);
    expect(() => new PolicyStore(configWith({ policyFile: file }))).toThrow(/rules\[0\] "everyone": claims: a rule needs at least one claim condition/);
  });

  it('reloads a good file', () => {
    writeFileSync(file, policyWith('first'));
    start();
    writeFileSync(file, policyWith('second'));
    expect(store!.reload()).toEqual({ result: 'reloaded' });
    expect(ruleNames(store!.current())).toEqual(['second']);
    expect(store!.status()).toEqual({ source: file, loadedAt: store!.current().loadedAt });
  });

  it('keeps the old policy when a reload fails, and reports why until a reload succeeds', () => {
    writeFileSync(file, EXAMPLE_POLICY_YAML);
    start();
    const before = store!.current();
    writeFileSync(file, BROKEN);
    const outcome = store!.reload();
    expect(outcome).toEqual({ result: 'failed', message: expect.stringContaining(`Policy file ${file} is invalid`) });
    expect(store!.current()).toBe(before);
    expect(store!.status()).toEqual({
      source: file,
      loadedAt: before.loadedAt,
      lastReloadError: { at: expect.any(Date), message: expect.stringContaining('rules[0] "everyone": claims: a rule needs at least one claim condition') },
    });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^Policy reload failed; the policy loaded at .* stays in force\. Policy file/));

    writeFileSync(file, policyWith('fixed'));
    expect(store!.reload()).toEqual({ result: 'reloaded' });
    expect(store!.status().lastReloadError).toBeUndefined();
  });

  it('keeps the old policy when the file disappears', () => {
    writeFileSync(file, policyWith('first'));
    start();
    renameSync(file, `${file}.gone`);
    expect(store!.reload()).toEqual({ result: 'failed', message: expect.stringContaining('POLICY_FILE: it does not exist') });
    expect(ruleNames(store!.current())).toEqual(['first']);
  });

  it('reloads on SIGHUP, and stops listening when the module is destroyed', () => {
    writeFileSync(file, policyWith('first'));
    const listeners = process.listenerCount('SIGHUP');
    start();
    expect(process.listenerCount('SIGHUP')).toBe(listeners + 1);
    writeFileSync(file, policyWith('after-sighup'));
    process.emit('SIGHUP', 'SIGHUP');
    expect(ruleNames(store!.current())).toEqual(['after-sighup']);
    store!.onModuleDestroy();
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
  });

  it('reloads when the file changes, also when an editor replaces it', async () => {
    writeFileSync(file, policyWith('first'));
    start();
    writeFileSync(file, policyWith('written-in-place'));
    await eventually(() => ruleNames(store!.current())?.[0] === 'written-in-place', 'the reload after writing the file');
    // Editors write a new file beside the old one and rename it over it.
    const replacement = join(folder, '.policy.yaml.swp');
    writeFileSync(replacement, policyWith('renamed-over'));
    renameSync(replacement, file);
    await eventually(() => ruleNames(store!.current())?.[0] === 'renamed-over', 'the reload after renaming over the file');
  });

  it('keeps the old policy when the file changes into a bad one, and says so', async () => {
    writeFileSync(file, policyWith('first'));
    start();
    writeFileSync(file, BROKEN);
    await eventually(() => store!.status().lastReloadError !== undefined, 'the failed reload');
    expect(ruleNames(store!.current())).toEqual(['first']);
  });
});
