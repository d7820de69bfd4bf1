import type { INestApplicationContext } from '@nestjs/common';
import type { Command } from 'commander';
import { CommandFactory, CommandRunnerService } from 'nest-commander';
import { DomainError } from '../common/domain-error.js';
import { GithubError } from '../github/github.errors.js';
import type { AppConfig } from '../config/app-config.js';
import { DEMO_DATABASE_URL, type Env, loadConfig, type LoadOptions } from '../config/config.loader.js';
import { CHECK_POLICY_COMMAND } from './check-policy.command.js';
import { CLEANUP_STALE_RUNNERS_COMMAND } from './cleanup-stale-runners.command.js';
import { LeaseHeldError, NegativeAnswer, StoppedEarlyError, UsageError } from './cli-errors.js';
import { CliModule } from './cli.module.js';
import { REMOVE_RUNNERS_FLAG, SUSPEND_IDENTITY_COMMAND } from './suspend-identity.command.js';
import { SYNC_GITHUB_COMMAND } from './sync-github.command.js';

/**
 * Exit codes: 0 success, 1 the command failed, 2 bad usage (unknown command or option), 75 another
 * instance holds the job's lease and nothing was done (sysexits' EX_TEMPFAIL: try again later), 130
 * stopped early between two batches (Ctrl-C, SIGTERM, a lost lease; what was done is printed).
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_LEASE_HELD = 75;
export const EXIT_STOPPED_EARLY = 130;

/** Commands that call GitHub; the others run with only DATABASE_URL set. */
const COMMANDS_CALLING_GITHUB: readonly string[] = [SYNC_GITHUB_COMMAND, CLEANUP_STALE_RUNNERS_COMMAND];
/** Commands that call GitHub only with a flag: suspending works without GitHub, removing runners does not. */
const FLAGS_CALLING_GITHUB: Readonly<Record<string, string>> = { [SUSPEND_IDENTITY_COMMAND]: REMOVE_RUNNERS_FLAG };
const HELP_FLAGS: readonly string[] = ['--help', '-h'];
/** Commands that stop between two batches on the first Ctrl-C or SIGTERM (RunCliOptions.stop) instead of dying at once. */
export const STOPPABLE_COMMANDS: readonly string[] = [SYNC_GITHUB_COMMAND, CLEANUP_STALE_RUNNERS_COMMAND];

/**
 * The configuration a CLI invocation (`argv` as in process.argv) needs: nothing for check-policy
 * (it touches neither GitHub nor the database), GitHub settings for the commands that call GitHub,
 * else only the database. Help never needs more than the database.
 */
export function configScopeFor(argv: string[]): NonNullable<LoadOptions['scope']> {
  const args = argv.slice(2);
  const command = args.find((arg) => !arg.startsWith('-'));
  if (command === CHECK_POLICY_COMMAND) return 'policy';
  if (command === undefined || isHelpRequest(argv)) return 'database';
  if (COMMANDS_CALLING_GITHUB.includes(command)) return 'github';
  const flag = FLAGS_CALLING_GITHUB[command];
  return flag !== undefined && args.includes(flag) ? 'github' : 'database';
}

/** No command, or --help: the CLI prints its usage and opens no database of the operator's. */
export function isHelpRequest(argv: string[]): boolean {
  const args = argv.slice(2);
  return !args.some((arg) => !arg.startsWith('-')) || args.some((arg) => HELP_FLAGS.includes(arg));
}

/**
 * The configuration of one CLI invocation from the environment; throws ConfigError. Help needs no
 * DATABASE_URL: it runs over an in-memory database that it never queries.
 */
export function loadCliConfig(argv: string[], env: Env): AppConfig {
  const withDatabase = isHelpRequest(argv) && env.DATABASE_URL === undefined ? { ...env, DATABASE_URL: DEMO_DATABASE_URL } : env;
  return loadConfig(withDatabase, { scope: configScopeFor(argv) });
}

interface CommanderLikeError extends Error {
  code?: string;
  exitCode?: number;
}

/** Commander asked to exit (help, version, bad usage); carried out of parseAsync as an error. */
class CommanderExit extends Error {
  constructor(readonly exitCode: number) {
    super('commander exit');
  }
}

/** Commander would call process.exit after its handler returns; throwing carries the code out. */
function exitThroughError(error: CommanderLikeError): never {
  const done = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code ?? '');
  throw new CommanderExit(done ? EXIT_OK : EXIT_USAGE);
}

/** nest-commander keeps its commander program private; the CLI needs it for help and exit handling. */
function programOf(runner: CommandRunnerService): Command {
  return (runner as unknown as { commander: Command }).commander;
}

function commandHelp(runner: CommandRunnerService): string {
  return programOf(runner).helpInformation();
}

function describe(error: Error): string {
  // The operator runs the CLI: the detail a caller of the API is not shown belongs here.
  if (error instanceof GithubError && error.failure.operatorDetail) {
    return `${error.code}: ${error.message} (${error.failure.operatorDetail})`;
  }
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  return error.message;
}

/** The command of an invocation (`argv` as in process.argv), if any. */
export function commandOf(argv: string[]): string | undefined {
  return argv.slice(2).find((arg) => !arg.startsWith('-'));
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * For the commands that stop between batches (STOPPABLE_COMMANDS): a signal that fires on the first
 * Ctrl-C or SIGTERM that `source` (the process) receives, so that no batch is left half done; a
 * second one calls `quit` (exit at once). Other commands get none and keep Node's default: they
 * stop at once.
 */
export function stopSignalFor(
  argv: string[],
  source: Pick<NodeJS.EventEmitter, 'on'> = process,
  quit: () => void = () => process.exit(EXIT_STOPPED_EARLY),
): AbortSignal | undefined {
  if (!STOPPABLE_COMMANDS.includes(commandOf(argv) ?? '')) return undefined;
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return quit();
    process.stderr.write(`${signal}: stopping after the batch under way (again to quit at once)\n`);
    stop.abort();
  };
  for (const signal of STOP_SIGNALS) source.on(signal, onSignal);
  return stop.signal;
}

export interface RunCliOptions {
  /** Fires on the first Ctrl-C or SIGTERM: sync-github and cleanup-stale-runners stop between two batches. */
  stop?: AbortSignal;
}

/**
 * Runs one CLI invocation (`argv` as in process.argv) over the CLI module and returns its exit code.
 * Never calls process.exit, so tests run it in-process; a failing command never returns 0.
 */
export async function runCli(argv: string[], config: AppConfig, options: RunCliOptions = {}): Promise<number> {
  let exitCode = EXIT_OK;
  let app: INestApplicationContext;
  try {
    app = await CommandFactory.createWithoutRunning(CliModule.forRoot(config, configScopeFor(argv), options.stop), {
      // Failures are printed once, below; Nest's own error lines would repeat them.
      logger: false,
      abortOnError: false,
      errorHandler: exitThroughError,
      // nest-commander's default prints the error and leaves exit code 0.
      serviceErrorHandler: (error: Error) => {
        if (error instanceof CommanderExit) {
          exitCode = error.exitCode;
          return;
        }
        if (error instanceof NegativeAnswer) {
          exitCode = EXIT_FAILURE;
          return;
        }
        if (error instanceof LeaseHeldError) {
          exitCode = EXIT_LEASE_HELD;
          process.stderr.write(`${error.message}\n`);
          return;
        }
        if (error instanceof StoppedEarlyError) {
          exitCode = EXIT_STOPPED_EARLY;
          process.stderr.write(`${error.message}\n`);
          return;
        }
        if (error instanceof UsageError) {
          exitCode = EXIT_USAGE;
          process.stderr.write(`Error: ${error.message}\n`);
          return;
        }
        exitCode = EXIT_FAILURE;
        process.stderr.write(`Error: ${describe(error)}\n`);
      },
    });
  } catch (error) {
    // The database could not be reached, or a module failed to start.
    process.stderr.write(`Error: ${describe(error as Error)}\n`);
    return EXIT_FAILURE;
  }
  const runner = app.get(CommandRunnerService);
  // nest-commander sets the exit override on the program only; a subcommand's unknown option would
  // otherwise exit the process with code 1 instead of reporting bad usage.
  for (const command of programOf(runner).commands) {
    command.exitOverride(exitThroughError);
  }
  try {
    if (argv.length <= 2) {
      // No command: show what there is, and say it was bad usage.
      process.stderr.write(commandHelp(runner));
      return EXIT_USAGE;
    }
    await runner.run(argv);
  } finally {
    await app.close();
  }
  return exitCode;
}
