import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { EXAMPLE_AUTH_CONFIG } from '../../test/support/oidc.js';
import {
  CLUSTER_ISS,
  corpClaims,
  CORP_ISS,
  EXAMPLE_POLICY_YAML,
  GITHUB_ISS,
  githubClaims,
  kubernetesClaims,
  SETTINGS,
} from '../../test/support/policy-fixtures.js';
import { Actor } from '../auth/actor.js';
import { DomainError } from '../common/domain-error.js';
import type { AppConfig, AuthConfig } from '../config/app-config.js';
import { PolicyService } from './policy.service.js';
import { PolicyStore } from './policy.store.js';

function serviceWith(auth: Partial<AuthConfig>): PolicyService {
  const config = { auth: { ...EXAMPLE_AUTH_CONFIG, ...auth } } as AppConfig;
  return new PolicyService(new PolicyStore(config), config);
}

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rts-policy-service-')), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

const user = (issuer: string, issuerName: string, claims: Record<string, unknown>) =>
  Actor.user({ issuer, issuerName, subject: String(claims.sub), name: String(claims.sub), claims });

describe('PolicyService', () => {
  const admin = user(CORP_ISS, 'corp', corpClaims());
  const pods = user(CLUSTER_ISS, 'cluster-a', kubernetesClaims());
  const job = user(GITHUB_ISS, 'github-actions', githubClaims({ job_workflow_ref: 'my-org/api/.github/workflows/ci.yml@refs/heads/main' }));

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('with a policy file', () => {
    const policy = serviceWith({ policyFile: policyFile(EXAMPLE_POLICY_YAML) });

    it("decides from the actor's issuer and claims", () => {
      expect(policy.match(pods)).toMatchObject({ matched: true, rule: { name: 'team-a-pods' } });
      expect(policy.decideProvision(job, { kind: 'jit', labels: ['gpu'] }, SETTINGS)).toMatchObject({
        allowed: true,
        rule: 'ci-main-repos',
        labels: ['self-hosted', 'linux', 'x64', 'ci', 'gpu'],
      });
    });

    it('grants admin only through a rule that says admin: true', () => {
      expect(policy.isAdmin(admin)).toBe(true);
      expect(() => policy.requireAdmin(admin)).not.toThrow();
      expect(policy.isAdmin(pods)).toBe(false);
      expect(policy.isAdmin(user(CORP_ISS, 'corp', corpClaims({ email_verified: false })))).toBe(false);
    });

    it('refuses the admin API with FORBIDDEN to anyone else', () => {
      expect(() => policy.requireAdmin(pods)).toThrow(DomainError);
      expect(() => policy.requireAdmin(pods)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
      expect(() => policy.requireAdmin(Actor.system('cli'))).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    });

    it('does not take a token of an issuer called "local" for the local identity', () => {
      const impostor = Actor.user({ issuer: 'local', subject: 'local-user', name: 'local-user' });
      expect(policy.decideProvision(impostor, { kind: 'jit', labels: ['gpu'] }, SETTINGS)).toMatchObject({ allowed: false, code: 'POLICY_NO_MATCH' });
      expect(policy.isAdmin(impostor)).toBe(false);
    });
  });

  describe('without a policy file', () => {
    const policy = serviceWith({});

    it('allows any authenticated caller the seed grant, and makes nobody an admin', () => {
      expect(policy.match(admin)).toEqual({ matched: true, rule: null, matchedClaims: {} });
      expect(policy.decideProvision(pods, { kind: 'jit', labels: ['anything'] }, SETTINGS)).toMatchObject({ allowed: true, rule: null });
      expect(policy.isAdmin(admin)).toBe(false);
      expect(() => policy.requireAdmin(admin)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    });
  });

  describe('with authentication off', () => {
    it('gives the local identity the no-policy grant even with a policy file, and never admin', () => {
      const policy = serviceWith({ enabled: false, policyFile: policyFile(EXAMPLE_POLICY_YAML) });
      const local = Actor.local();
      expect(policy.decideProvision(local, { kind: 'jit', labels: ['production-deploy'] }, SETTINGS)).toMatchObject({
        allowed: true,
        rule: null,
        labels: ['self-hosted', 'linux', 'x64', 'production-deploy'],
        limits: { maxRunners: null, maxRunnersPerIdentity: null },
      });
      expect(policy.isAdmin(local)).toBe(false);
    });
  });
});
