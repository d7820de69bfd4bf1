/**
 * The injection token of the CLI's stop signal: it fires on the first Ctrl-C or SIGTERM (cli.ts), and
 * sync-github and cleanup-stale-runners stop between two batches when it does.
 */
export const CLI_STOP_SIGNAL = Symbol('CLI_STOP_SIGNAL');
