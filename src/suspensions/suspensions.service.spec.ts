import { DomainError } from '../common/domain-error.js';
import type { AuditService } from '../audit/audit.service.js';
import type { Transactions } from '../database/transactions.service.js';
import type { SuspensionEntity } from './suspension.entity.js';
import type { SuspensionsRepository } from './suspensions.repository.js';
import { SuspensionsService } from './suspensions.service.js';

const ISSUER = 'https://login.example.com';
const SINCE = new Date('2026-01-16T14:30:00Z');
const HOW = '(POST /api/v1/admin/identities/resume, or the resume-identity command) before you can use this service again';

function suspension(target: Partial<Pick<SuspensionEntity, 'issuer' | 'subject' | 'rule'>>): SuspensionEntity {
  return { id: 'id', issuer: null, subject: null, rule: null, createdAt: SINCE, createdBy: 'admin', reason: 'secret reason', removeRunners: false, ...target };
}

/** A service whose repository says these suspensions cover whoever asks. */
function serviceCovering(covering: SuspensionEntity[]): SuspensionsService {
  const repository = { listCovering: async () => covering } as unknown as SuspensionsRepository;
  return new SuspensionsService(repository, {} as AuditService, {} as Transactions);
}

async function refusalOf(service: SuspensionsService): Promise<DomainError> {
  const error = await service.assertNotSuspended({ issuer: ISSUER, subject: 'alice' }, 'ci').catch((caught: unknown) => caught);
  if (!(error instanceof DomainError)) throw new Error('not refused');
  return error;
}

describe('SuspensionsService.assertNotSuspended', () => {
  it('lets a caller through when nothing covers it', async () => {
    await expect(serviceCovering([]).assertNotSuspended({ issuer: ISSUER, subject: 'alice' }, null)).resolves.toBeUndefined();
  });

  it('names the suspended identity and how to get it lifted, never the reason', async () => {
    const error = await refusalOf(serviceCovering([suspension({ issuer: ISSUER, subject: 'alice' })]));
    expect(error.code).toBe('IDENTITY_SUSPENDED');
    expect(error.message).toBe(`Your identity (subject "alice" of issuer ${ISSUER}) is suspended: an admin must resume it ${HOW}`);
    expect(error.details).toEqual({
      suspended: [{ kind: 'identity', issuer: ISSUER, subject: 'alice', suspended_at: SINCE.toISOString() }],
    });
    expect(JSON.stringify(error)).not.toContain('secret reason');
  });

  it('names the suspended rule', async () => {
    const error = await refusalOf(serviceCovering([suspension({ rule: 'ci' })]));
    expect(error.message).toBe(`Everyone the policy rule "ci" matched is suspended, you included: an admin must resume the rule ${HOW}`);
    expect(error.details).toEqual({ suspended: [{ kind: 'rule', rule: 'ci', suspended_at: SINCE.toISOString() }] });
  });

  it('names both when both are suspended', async () => {
    const error = await refusalOf(serviceCovering([suspension({ rule: 'ci' }), suspension({ issuer: ISSUER, subject: 'alice' })]));
    expect(error.message).toBe(
      `Your identity (subject "alice" of issuer ${ISSUER}) is suspended, and so is everyone the policy rule "ci" matched: ` +
        `an admin must resume both ${HOW}`,
    );
    expect((error.details?.suspended as unknown[]).length).toBe(2);
  });
});
