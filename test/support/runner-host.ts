/**
 * A folder set up like a machine that runs GitHub Actions runners, for the examples/ scripts: the
 * scripts under examples/, actions-runner/ with stand-ins for run.sh and config.sh, and a stand-in
 * podman first on PATH. The stand-ins record what they were handed, credentials included, so a test
 * can check them; nothing there is printed.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

/**
 * Installed as actions-runner/run.sh, actions-runner/config.sh and bin/podman: records its name,
 * folder, arguments and the credentials in its environment, as one JSON line in $STUB_LOG.
 */
const STAND_IN = `#!/bin/sh
jq -cn --arg program "$(basename "$0")" --arg cwd "$PWD" \\
  --arg jit_config "\${ACTIONS_RUNNER_INPUT_JITCONFIG:-}" --arg token "\${ACTIONS_RUNNER_INPUT_TOKEN:-}" \\
  '{program: $program, cwd: $cwd, args: $ARGS.positional, jit_config: $jit_config, token: $token}' --args -- "$@" >>"$STUB_LOG"
echo "$(basename "$0") started"
`;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface StandInCall {
  program: string;
  cwd: string;
  args: string[];
  jit_config: string;
  token: string;
}


/** A folder set up like a runner host: examples/, actions-runner/ with the stand-ins, podman on PATH. */
export class RunnerHost {
  readonly dir = mkdtempSync(join(tmpdir(), 'rts-examples-'));
  readonly runnerDir = join(this.dir, 'actions-runner');
  private readonly log = join(this.dir, 'stand-ins.log');
  /** Every credential a stand-in or a file was handed so far: none may show in any output. */
  readonly credentials = new Set<string>();

  constructor(private readonly rtsUrl: () => string) {
    symlinkSync(EXAMPLES, join(this.dir, 'examples'));
    mkdirSync(this.runnerDir);
    mkdirSync(join(this.dir, 'bin'));
    for (const path of [join(this.runnerDir, 'run.sh'), join(this.runnerDir, 'config.sh'), join(this.dir, 'bin', 'podman')]) {
      writeFileSync(path, STAND_IN);
      chmodSync(path, 0o755);
    }
    writeFileSync(this.log, '');
  }

  /** Runs a command line in bash in the host's folder, with only the environment given here. */
  run(command: string, env: Record<string, string> = {}): Promise<Result> {
    writeFileSync(this.log, '');
    const child = spawn('bash', ['-c', command], {
      cwd: this.dir,
      env: {
        PATH: `${join(this.dir, 'bin')}:${process.env.PATH}`,
        HOME: this.dir,
        RTS_URL: this.rtsUrl(),
        STUB_LOG: this.log,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        for (const call of this.calls()) {
          if (call.jit_config) this.credentials.add(call.jit_config);
          if (call.token) this.credentials.add(call.token);
        }
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** What the stand-ins were handed during the last run, in order. */
  calls(): StandInCall[] {
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as StandInCall);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
