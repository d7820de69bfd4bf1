import { ConfigError } from '../config/config.loader.js';
import { configScopeFor, loadCliConfig } from './run-cli.js';

describe('configScopeFor', () => {
  const argv = (...args: string[]) => ['node', 'dist/cli.js', ...args];

  it('asks for the GitHub settings only for the commands that call GitHub', () => {
    expect(configScopeFor(argv('sync-github'))).toBe('github');
    expect(configScopeFor(argv('cleanup-stale-runners', '--hours', '24', '--dry-run'))).toBe('github');
    expect(configScopeFor(argv('--json', 'sync-github'))).toBe('github');
    for (const command of ['init-db', 'list-runners', 'export-audit-log', 'no-such-command']) {
      expect(configScopeFor(argv(command, '--json'))).toBe('database');
    }
  });

  it('needs nothing for check-policy, which touches neither GitHub nor the database', () => {
    expect(configScopeFor(argv('check-policy', '--policy', 'policy.yaml'))).toBe('policy');
    expect(configScopeFor(argv('check-policy', '--help'))).toBe('policy');
  });

  it('asks for the GitHub settings for suspend-identity only when it removes runners', () => {
    expect(configScopeFor(argv('suspend-identity', '--rule', 'ci', '--remove-runners'))).toBe('github');
    expect(configScopeFor(argv('suspend-identity', '--rule', 'ci'))).toBe('database');
    expect(configScopeFor(argv('resume-identity', '--rule', 'ci'))).toBe('database');
    expect(configScopeFor(argv('suspend-identity', '--remove-runners', '--help'))).toBe('database');
  });

  it('needs only the database for help and for no command at all', () => {
    expect(configScopeFor(argv())).toBe('database');
    expect(configScopeFor(argv('--help'))).toBe('database');
    expect(configScopeFor(argv('sync-github', '--help'))).toBe('database');
    expect(configScopeFor(argv('cleanup-stale-runners', '-h'))).toBe('database');
  });
});

describe('loadCliConfig', () => {
  const argv = (...args: string[]) => ['node', 'cli.js', ...args];

  it('refuses a command that uses the database without DATABASE_URL, naming it', () => {
    expect(() => loadCliConfig(argv('list-runners'), {})).toThrow(ConfigError);
    expect(() => loadCliConfig(argv('init-db'), {})).toThrow(/DATABASE_URL is required: postgres:\/\/.*pglite:\/\/\.\/data/);
  });

  it('shows help without DATABASE_URL, over an in-memory database', () => {
    expect(loadCliConfig(argv('--help'), {}).database).toEqual({ kind: 'pglite', dataDir: undefined });
    expect(loadCliConfig(argv(), {}).database).toEqual({ kind: 'pglite', dataDir: undefined });
    expect(loadCliConfig(argv('init-db', '--help'), {}).database).toEqual({ kind: 'pglite', dataDir: undefined });
  });

  it('keeps the DATABASE_URL given, for help too', () => {
    const env = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/rts' };
    expect(loadCliConfig(argv('--help'), env).database).toEqual({ kind: 'postgres', url: env.DATABASE_URL });
    expect(loadCliConfig(argv('list-runners'), env).database).toEqual({ kind: 'postgres', url: env.DATABASE_URL });
  });
});
