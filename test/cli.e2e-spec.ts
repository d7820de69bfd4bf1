import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { AppConfig } from '../src/config/app-config.js';
import { loadConfig } from '../src/config/config.loader.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, runCli } from '../src/commands/run-cli.js';
import { testDatabaseConfig, type TestDatabase } from './support/database.js';

/** Runs the CLI in-process as `node dist/cli.js ...args` and captures what it prints. */
async function cli(config: AppConfig, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const code = await runCli(['node', 'cli.js', ...args], config);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

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
    expect(JSON.parse(second.stdout)).toEqual({ database: expect.any(String), applied: [], total_migrations: 2 });
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

  it('exits 1 with the reason when the database cannot be reached', async () => {
    const unreachable = loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, { scope: 'database' });
    const result = await cli(unreachable, 'init-db');
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toMatch(/ECONNREFUSED/);
  });
});
