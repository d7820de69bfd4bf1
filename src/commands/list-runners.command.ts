import { Command, CommandRunner, Option } from 'nest-commander';
import type { ForeignRunnerResponseDto } from '../runners/dto/foreign-runner-response.dto.js';
import type { RunnerResponseDto } from '../runners/dto/runner-response.dto.js';
import { ForeignRunnersService } from '../runners/reconciliation/foreign-runners.service.js';
import { RUNNER_STATUSES, type RunnerStatus } from '../runners/runner.entity.js';
import { RunnersService } from '../runners/runners.service.js';
import { formatTime, orDash, plural } from './format.js';
import { parseChoice, parseNonBlank } from './option-parsers.js';
import { UsageError } from './cli-errors.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';

export const LIST_RUNNERS_COMMAND = 'list-runners';

interface ListRunnersOptions {
  status?: RunnerStatus;
  user?: string;
  foreign?: boolean;
  json?: boolean;
}

const HEADERS = ['NAME', 'STATUS', 'BUSY', 'KIND', 'OWNER', 'GITHUB ID', 'CREATED', 'LABELS'];
const FOREIGN_HEADERS = ['NAME', 'GITHUB ID', 'STATUS', 'BUSY', 'FIRST SEEN', 'LAST SEEN', 'LABELS'];

@Command({
  name: LIST_RUNNERS_COMMAND,
  description:
    "List every owner's runners, newest first (deleted and failed ones only with --status); " +
    "with --foreign, the org's runners this service did not issue",
})
export class ListRunnersCommand extends CommandRunner {
  constructor(
    private readonly runners: RunnersService,
    private readonly foreignRunners: ForeignRunnersService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: ListRunnersOptions): Promise<void> {
    if (options.foreign && (options.status !== undefined || options.user !== undefined)) {
      throw new UsageError(
        '--foreign lists runners this service did not issue: they have no status of ours and no owner; leave out --status and --user',
      );
    }
    await this.schema.requireReady();
    if (options.foreign) {
      await this.listForeign(options.json ?? false);
      return;
    }
    const runners = await this.runners.listAllRunners({ status: options.status, user: options.user });
    if (options.json) {
      this.output.json({ runners });
      return;
    }
    this.output.table(HEADERS, runners.map(toRow), 'No runners match.');
    if (runners.length > 0) this.output.line(summarize(runners));
  }

  @Option({ flags: '--status <status>', description: `Only runners in this status: ${RUNNER_STATUSES.join(', ')}` })
  parseStatus(value: string): RunnerStatus {
    return parseChoice(value, RUNNER_STATUSES);
  }

  @Option({ flags: '--user <user>', description: "Only this owner's runners (their name, e.g. an email, or their subject)" })
  parseUser(value: string): string {
    return parseNonBlank(value, 'the owner name or subject, e.g. --user alice@example.com');
  }

  /** The foreign runners the last sync found (not gone since), newest first. */
  private async listForeign(json: boolean): Promise<void> {
    const foreign = await this.foreignRunners.listForeignRunners();
    if (json) {
      this.output.json({ foreign_runners: foreign });
      return;
    }
    this.output.table(FOREIGN_HEADERS, foreign.map(toForeignRow), 'No foreign runners: the last sync accounted for every runner of the org.');
    if (foreign.length > 0) {
      this.output.line(
        `${plural(foreign.length, 'foreign runner')}: on GitHub, not issued by this service, ` +
          'not matched by KNOWN_RUNNER_NAMES (as of the last sync).',
      );
    }
  }

  @Option({
    flags: '--foreign',
    description: 'The runners of the org that this service did not issue and KNOWN_RUNNER_NAMES does not match, as the last sync found them',
  })
  parseForeign(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'Print {"runners": [...]} (with --foreign {"foreign_runners": [...]}) as JSON, with every field' })
  parseJson(): boolean {
    return true;
  }
}

function toRow(runner: RunnerResponseDto): string[] {
  return [
    runner.runner_name,
    runner.status,
    runner.busy ? 'yes' : 'no',
    runner.kind,
    runner.owner,
    orDash(runner.github_runner_id),
    formatTime(runner.created_at),
    runner.labels.join(','),
  ];
}

function toForeignRow(runner: ForeignRunnerResponseDto): string[] {
  return [
    runner.name,
    String(runner.github_runner_id),
    runner.status,
    runner.busy ? 'yes' : 'no',
    formatTime(runner.first_seen_at),
    formatTime(runner.last_seen_at),
    runner.labels.join(','),
  ];
}

/** The order of the summary's counts: working runners first, history last. */
const SUMMARY_ORDER: readonly RunnerStatus[] = ['active', 'offline', 'pending', 'deleted', 'failed'];

/** `3 runners: 2 active, 1 pending`. */
function summarize(runners: RunnerResponseDto[]): string {
  const counts = SUMMARY_ORDER.map((status) => [status, runners.filter((runner) => runner.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status}`);
  return `${plural(runners.length, 'runner')}: ${counts.join(', ')}`;
}
