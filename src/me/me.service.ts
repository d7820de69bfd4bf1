import { Inject, Injectable } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Transactions } from '../database/transactions.service.js';
import { PolicyService } from '../policy/policy.service.js';
import { PolicyStore } from '../policy/policy.store.js';
import type { Grant } from '../policy/policy.types.js';
import { RunnerQuotas } from '../runners/provisioning/runner-quotas.service.js';
import { SuspensionsService } from '../suspensions/suspensions.service.js';
import { type MeResponseDto, toMeGrant } from './dto/me-response.dto.js';

/**
 * "Why was I refused?", answered for the caller: who the service thinks they are, the rule that
 * matched, what it grants, and how much of each limit is used now.
 */
@Injectable()
export class MeService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly policy: PolicyService,
    private readonly store: PolicyStore,
    private readonly quotas: RunnerQuotas,
    private readonly transactions: Transactions,
    private readonly suspensions: SuspensionsService,
  ) {}

  async describe(actor: Actor): Promise<MeResponseDto> {
    const withFile = this.store.current().rules !== null;
    const match = this.policy.match(actor);
    const rule = match.matched ? match.rule : null;
    const grant = match.matched ? (rule?.grant ?? this.noPolicyGrant()) : null;
    const { usage, suspended } = await this.transactions.run(async (tx) => ({
      usage: await this.quotas.usage(tx, actor, rule?.name ?? null),
      suspended: await this.suspensions.isSuspended(tx, actor, rule?.name ?? null),
    }));
    return {
      identity: { issuer: actor.issuer, subject: actor.subject, name: actor.name, issuer_name: actor.issuerName },
      policy: withFile ? 'file' : 'none',
      rule: rule?.name ?? null,
      ...(!match.matched && { considered_claims: match.considered }),
      grant: grant && toMeGrant(grant, this.config.github.runnerGroupId),
      usage: { runners: usage.identity, rule_runners: usage.rule },
      suspended,
    };
  }

  /** Without a policy file: any labels, the configured group, no limits, never admin. */
  private noPolicyGrant(): Grant {
    return {
      labels: { required: [], allowed: [{ kind: 'pattern', source: '.*', regex: /^(?:.*)$/ }] },
      runnerGroups: [this.config.github.runnerGroupId],
      maxRunners: null,
      maxRunnersPerIdentity: null,
      registrationTokens: this.config.runners.registrationTokensEnabled,
      admin: false,
      bindToRun: false,
    };
  }
}
