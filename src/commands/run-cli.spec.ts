import { EventEmitter } from 'node:events';
import { jest } from '@jest/globals';
import { ConfigError } from '../config/config.loader.js';
import { configScopeFor, loadCliConfig, stopSignalFor } from './run-cli.js';

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

describe('stopSignalFor', () => {
  const argv = (...args: string[]) => ['node', 'dist/cli.js', ...args];

  it('stops sync-github and cleanup-stale-runners between batches on the first Ctrl-C or SIGTERM, and quits on the second', () => {
    for (const [command, first] of [['sync-github', 'SIGINT'], ['cleanup-stale-runners', 'SIGTERM']] as const) {
      const source = new EventEmitter();
      let quits = 0;
      const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const signal = stopSignalFor(argv('--json', command), source, () => quits++);
        expect(signal?.aborted).toBe(false);
        source.emit(first, first);
        expect(signal?.aborted).toBe(true);
        expect(quits).toBe(0);
        expect(stderr).toHaveBeenCalledWith(`${first}: stopping after the batch under way (again to quit at once)\n`);
        source.emit('SIGINT', 'SIGINT');
        expect(quits).toBe(1);
      } finally {
        stderr.mockRestore();
      }
    }
  });

  it('leaves Ctrl-C to Node for every other command: they stop at once', () => {
    const source = new EventEmitter();
    for (const command of ['list-runners', 'export-audit-log', 'init-db']) {
      expect(stopSignalFor(argv(command), source)).toBeUndefined();
    }
    expect(source.listenerCount('SIGINT')).toBe(0);
  });
});
