import { Command, CommandRunner, Option } from 'nest-commander';
import { REASON_MAX_LENGTH } from '../admin/dto/identity-selector.dto.js';
import { KillSwitchService } from '../admin/kill-switch.service.js';
import { Actor } from '../auth/actor.js';
import type { RunnerRemovalReportDto } from '../runners/dto/runner-removal-report.dto.js';
import { describeTarget } from '../suspensions/suspension-target.js';
import { CommandFailedError, InvalidOptionValue } from './cli-errors.js';
import { CliOutput } from './cli-output.service.js';
import { formatTime, orDash, plural } from './format.js';
import { parseNonBlank } from './option-parsers.js';
import { SchemaCheck } from './schema-check.service.js';
import { ISSUER_OPTION, RULE_OPTION, SUBJECT_OPTION, type SuspensionTargetOptions, targetFromOptions } from './suspension-target.options.js';

export const SUSPEND_IDENTITY_COMMAND = 'suspend-identity';
/** With it the command calls GitHub (and needs its settings). */
export const REMOVE_RUNNERS_FLAG = '--remove-runners';

interface SuspendIdentityOptions extends SuspensionTargetOptions {
  removeRunners?: boolean;
  reason?: string;
  json?: boolean;
}

const HEADERS = ['NAME', 'OWNER', 'GITHUB ID', 'RESULT', 'REASON'];
const GITHUB_RESULTS: Record<string, string> = {
  deleted: 'deleted on GitHub',
  'already-gone': 'already gone from GitHub',
  'never-registered': 'never registered on GitHub',
};

@Command({
  name: SUSPEND_IDENTITY_COMMAND,
  description:
    'Suspend an identity (--issuer and --subject) or everyone a policy rule matched (--rule): their requests are refused; ' +
    'with --remove-runners their idle runners are removed from GitHub now',
})
export class SuspendIdentityCommand extends CommandRunner {
  constructor(
    private readonly killSwitch: KillSwitchService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: SuspendIdentityOptions): Promise<void> {
    const target = targetFromOptions(options);
    await this.schema.requireReady();
    const result = await this.killSwitch.suspend(Actor.system('cli'), target, {
      removeRunners: options.removeRunners ?? false,
      reason: options.reason ?? null,
    });
    if (options.json) {
      this.output.json(result);
    } else {
      this.output.line(
        result.already_suspended
          ? `Already suspended since ${formatTime(result.suspended_at)} by ${result.suspended_by}: ${describeTarget(target)}; nothing changed.`
          : `Suspended ${describeTarget(target)}: their requests are refused until resume-identity.`,
      );
      if (result.runner_removal) this.printRemoval(result.runner_removal);
    }
    const failed = result.runner_removal?.failed.length ?? 0;
    if (failed > 0) {
      throw new CommandFailedError(`${plural(failed, 'runner')} could not be removed (see above); run the command again later`);
    }
  }

  private printRemoval(removal: RunnerRemovalReportDto): void {
    this.output.table(HEADERS, toRows(removal), 'No runners to remove.');
    const summary = `${removal.removed.length} removed, ${removal.busy.length} left because busy, ${removal.failed.length} failed.`;
    this.output.line(
      removal.busy.length > 0
        ? `${summary} The next cleanup removes the busy runners once they are idle (an ephemeral runner leaves GitHub after its job).`
        : summary,
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

  @Option({ flags: REMOVE_RUNNERS_FLAG, description: 'Also remove their runners from GitHub now; busy ones are left and listed' })
  parseRemoveRunners(): boolean {
    return true;
  }

  @Option({ flags: '--reason <text>', description: `Why, for the audit trail and other admins (at most ${REASON_MAX_LENGTH} characters)` })
  parseReason(value: string): string {
    parseNonBlank(value, 'a reason, e.g. --reason "leaked token, INC-1234"');
    if (value.length > REASON_MAX_LENGTH) throw new InvalidOptionValue(`Give at most ${REASON_MAX_LENGTH} characters.`);
    return value;
  }

  @Option({ flags: '--json', description: 'Print the result as JSON (what POST /api/v1/admin/identities/suspend answers)' })
  parseJson(): boolean {
    return true;
  }
}

function toRows(removal: RunnerRemovalReportDto): string[][] {
  return [
    ...removal.removed.map((entry) => [entry.runner_name, entry.owner, orDash(entry.github_runner_id), 'removed', GITHUB_RESULTS[entry.github]]),
    ...removal.busy.map((entry) => [entry.runner_name, entry.owner, orDash(entry.github_runner_id), 'skipped: busy', entry.reason]),
    ...removal.failed.map((entry) => [
      entry.runner_name,
      entry.owner,
      orDash(entry.github_runner_id),
      'failed',
      `${entry.error_code}: ${entry.reason}`,
    ]),
  ];
}
