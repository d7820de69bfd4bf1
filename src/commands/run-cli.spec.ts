import { configScopeFor } from './run-cli.js';

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
