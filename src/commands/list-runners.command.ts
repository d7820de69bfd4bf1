import { Command, CommandRunner, Option } from 'nest-commander';
import type { RunnerResponseDto } from '../runners/dto/runner-response.dto.js';
import { RUNNER_STATUSES, type RunnerStatus } from '../runners/runner.entity.js';
import { RunnersService } from '../runners/runners.service.js';
import { formatTime, orDash, plural } from './format.js';
import { parseChoice, parseNonBlank } from './option-parsers.js';
import { CliOutput } from './cli-output.service.js';
import { SchemaCheck } from './schema-check.service.js';

export const LIST_RUNNERS_COMMAND = 'list-runners';

interface ListRunnersOptions {
  status?: RunnerStatus;
  user?: string;
  json?: boolean;
}

const HEADERS = ['NAME', 'STATUS', 'BUSY', 'KIND', 'OWNER', 'GITHUB ID', 'CREATED', 'LABELS'];

@Command({
  name: LIST_RUNNERS_COMMAND,
  description: "List every owner's runners, newest first (deleted and failed ones only with --status)",
})
export class ListRunnersCommand extends CommandRunner {
  constructor(
    private readonly runners: RunnersService,
    private readonly schema: SchemaCheck,
    private readonly output: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: ListRunnersOptions): Promise<void> {
    await this.schema.requireReady();
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

  @Option({ flags: '--json', description: 'Print {"runners": [...]} as JSON, with every field' })
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

/** The order of the summary's counts: working runners first, history last. */
const SUMMARY_ORDER: readonly RunnerStatus[] = ['active', 'offline', 'pending', 'deleted', 'failed'];

/** `3 runners: 2 active, 1 pending`. */
function summarize(runners: RunnerResponseDto[]): string {
  const counts = SUMMARY_ORDER.map((status) => [status, runners.filter((runner) => runner.status === status).length] as const)
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${count} ${status}`);
  return `${plural(runners.length, 'runner')}: ${counts.join(', ')}`;
}
