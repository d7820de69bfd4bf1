import { Command, CommandRunner, Option } from 'nest-commander';
import { KillSwitchService } from '../admin/kill-switch.service.js';
import { Actor } from '../auth/actor.js';
import { describeTarget } from '../suspensions/suspension-target.js';
import { CliOutput } from './cli-output.service.js';
import { formatTime } from './format.js';
import { SchemaCheck } from './schema-check.service.js';
import { ISSUER_OPTION, RULE_OPTION, SUBJECT_OPTION, type SuspensionTargetOptions, targetFromOptions } from './suspension-target.options.js';

export const RESUME_IDENTITY_COMMAND = 'resume-identity';

interface ResumeIdentityOptions extends SuspensionTargetOptions {
  json?: boolean;
}

@Command({
  name: RESUME_IDENTITY_COMMAND,
  description: 'Lift the suspension of an identity (--issuer and --subject) or of a policy rule (--rule)',
})
export class ResumeIdentityCommand extends CommandRunner {
  constructor(
    private readonly killSwitch: KillSwitchService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: ResumeIdentityOptions): Promise<void> {
    const target = targetFromOptions(options);
    await this.schema.requireReady();
    const result = await this.killSwitch.resume(Actor.system('cli'), target);
    if (options.json) {
      this.output.json(result);
      return;
    }
    this.output.line(
      result.lifted
        ? `Resumed ${describeTarget(target)} (suspended since ${formatTime(result.lifted.suspended_at)} by ${result.lifted.suspended_by}).`
        : `Not suspended: ${describeTarget(target)}; nothing changed.`,
    );
  }

  @Option(ISSUER_OPTION)
  parseIssuer(value: string): string {
    return value;
  }

  @Option(SUBJECT_OPTION)
  parseSubject(value: string): string {
    return value;
  }

  @Option(RULE_OPTION)
  parseRule(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'Print the result as JSON (what POST /api/v1/admin/identities/resume answers)' })
  parseJson(): boolean {
    return true;
  }
}
