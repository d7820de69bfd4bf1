import 'reflect-metadata';
import { EXIT_FAILURE, runCli } from './commands/run-cli.js';
import { ConfigError, loadConfig, readEnvironment } from './config/config.loader.js';

async function main(): Promise<number> {
  // init-db runs before GitHub and OIDC are configured; it needs only the database.
  const config = loadConfig(readEnvironment(), { scope: 'database' });
  return runCli(process.argv, config);
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
