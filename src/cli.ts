import 'reflect-metadata';
import { EXIT_FAILURE, loadCliConfig, runCli, stopSignalFor } from './commands/run-cli.js';
import { ConfigError, readEnvironment } from './config/config.loader.js';

async function main(): Promise<number> {
  // sync-github and cleanup-stale-runners need GitHub; the rest (init-db first of all) runs before
  // GitHub and OIDC are configured, with only the database; check-policy needs neither. The CLI
  // never verifies tokens.
  const config = loadCliConfig(process.argv, readEnvironment());
  // sync-github and cleanup-stale-runners stop between two batches on the first Ctrl-C or SIGTERM.
  return runCli(process.argv, config, { stop: stopSignalFor(process.argv) });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable and its default.\n`);
    } else {
      process.stderr.write(`Error: ${(error as Error)?.message ?? String(error)}\n`);
    }
    process.exitCode = EXIT_FAILURE;
  },
);
