import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CommandFactory } from 'nest-commander';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from '../src/commands/run-cli.js';
import { CliModule } from '../src/commands/cli.module.js';
import { MIGRATIONS } from '../src/database/migrations/index.js';
import { ReconciliationScheduler } from '../src/runners/reconciliation/reconciliation.scheduler.js';
import { cli } from './support/cli.js';
import { testDatabaseConfig, type TestDatabase } from './support/database.js';

describe('CLI (e2e)', () => {
  let database: TestDatabase;
  let config: AppConfig;

  beforeAll(async () => {
    database = await testDatabaseConfig();
    // init-db needs only the database: no GitHub or OIDC settings.
    // PGlite in a folder, so the second run sees what the first one made.
    const url = database.config.kind === 'postgres' ? database.config.url : `pglite://${mkdtempSync(join(tmpdir(), 'rts-cli-'))}`;
    config = loadConfig({ DATABASE_URL: url }, { scope: 'database' });
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('init-db creates the schema, and a second run changes nothing', async () => {
    const first = await cli(config, 'init-db');
    expect(first).toMatchObject({ code: EXIT_OK, stderr: '' });
    expect(first.stdout).toContain('Applied CreateRunners');
    expect(first.stdout).toContain('Applied CreateAuditEvents');

    const second = await cli(config, 'init-db', '--json');
    expect(second.code).toBe(EXIT_OK);
    expect(JSON.parse(second.stdout)).toEqual({ database: expect.any(String), applied: [], total_migrations: MIGRATIONS.length });
    expect(first.stdout).toMatch(/Schema of (PostgreSQL database rts_test_\w+ at|embedded PGlite in \/)/);
  });

  it('exits 2 without a command, listing the commands on stderr', async () => {
    const bare = await cli(config);
    expect(bare.code).toBe(EXIT_USAGE);
    expect(bare.stderr).toContain('init-db');
  });

  it('exits 2 on an unknown command or option, with a message on stderr', async () => {
    const unknownCommand = await cli(config, 'no-such-command');
    expect(unknownCommand.code).toBe(EXIT_USAGE);
    expect(unknownCommand.stderr).toMatch(/unknown command/);
    const unknownOption = await cli(config, 'init-db', '--no-such-flag');
    expect(unknownOption.code).toBe(EXIT_USAGE);
    expect(unknownOption.stderr).toMatch(/unknown option/);
  });

  it.each([['init-db'], ['list-runners'], ['export-audit-log'], ['cleanup-stale-runners', '--dry-run']])(
    'exits 1 with the reason when the database cannot be reached (%s)',
    async (...args: string[]) => {
      const unreachable = loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, { scope: 'database' });
      const result = await cli(unreachable, ...args);
      expect(result.code).toBe(EXIT_FAILURE);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/ECONNREFUSED/);
    },
  );

  it('tells to run init-db first when the schema is missing, and exits 1', async () => {
    const empty = await testDatabaseConfig();
    try {
      const emptyConfig = { ...config, database: empty.config };
      for (const command of ['list-runners', 'export-audit-log', 'sync-github', 'cleanup-stale-runners']) {
        const result = await cli(emptyConfig, command);
        expect({ command, ...result }).toEqual({
          command,
          code: EXIT_FAILURE,
          stdout: '',
          stderr: `Error: The database lacks ${MIGRATIONS.length} migration(s): run \`node dist/cli.js init-db\` (or \`npm run cli -- init-db\`) first\n`,
        });
      }
    } finally {
      await empty.drop();
    }
  });

  it('never starts the scheduler: the CLI context has no scheduled jobs', async () => {
    const app = await CommandFactory.createWithoutRunning(CliModule.forRoot(config), { logger: false });
    try {
      expect(() => app.get(ReconciliationScheduler, { strict: false })).toThrow();
      expect(() => app.get(SchedulerRegistry, { strict: false })).toThrow();
    } finally {
      await app.close();
    }
  });

  it('lists every command in --help', async () => {
    const help = await cli(config, '--help');
    expect(help.code).toBe(EXIT_OK);
    for (const command of [
      'init-db',
      'list-runners',
      'cleanup-stale-runners',
      'sync-github',
      'export-audit-log',
      'suspend-identity',
      'resume-identity',
    ]) {
      expect(help.stdout).toContain(command);
    }
    const exportHelp = await cli(config, 'export-audit-log', '--help');
    expect(exportHelp.code).toBe(EXIT_OK);
    expect(exportHelp.stdout).toMatch(/--since <date>[\s\S]*--event-type <type>[\s\S]*--limit <n>[\s\S]*--user <user>[\s\S]*--output <file>[\s\S]*--json/);
  });
});
