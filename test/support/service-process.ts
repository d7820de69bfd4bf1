/**
 * The service as its own OS process (`node dist/main.js`, what `npm start` runs), for tests that
 * must kill it: every line it writes to stdout and stderr is kept, and its URL is read from its
 * "listening on" log line. Runs the built service: `npm run test:slow` builds it first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVICE_ENTRY = join(ROOT, 'dist', 'main.js');
export const CLI_ENTRY = join(ROOT, 'dist', 'cli.js');
/** PGlite creates and migrates its database at start: several seconds on a loaded machine. */
const START_TIMEOUT_MS = 90_000;
const LISTENING = /listening on (http:\/\/[^:]+:\d+)/;

export interface ServiceProcess {
  readonly pid: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Every line written to stdout and stderr so far, in order. */
  readonly lines: string[];
  /** Resolves with the exit code (null when a signal ended it) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts `node dist/main.js` with exactly `env` (no variable of this process leaks in, and it runs
 * in `cwd`, so no .env of the checkout steers it) and resolves once it listens.
 */
export async function startServiceProcess(env: Record<string, string>, cwd: string): Promise<ServiceProcess> {
  const child = spawnBuilt(SERVICE_ENTRY, [], env, cwd);
  const lines: string[] = [];
  collectLines(child, lines);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`The service did not start within ${START_TIMEOUT_MS} ms:\n${lines.join('\n')}`)), START_TIMEOUT_MS);
    const check = setInterval(() => {
      const found = lines.map((line) => LISTENING.exec(line)).find(Boolean);
      if (!found) return;
      clearInterval(check);
      clearTimeout(timer);
      done(found[1]);
    }, 20);
    void exited.then(({ code, signal }) => {
      clearInterval(check);
      clearTimeout(timer);
      fail(new Error(`The service exited (code ${code}, signal ${signal}) before it listened:\n${lines.join('\n')}`));
    });
  });
  return {
    pid: child.pid as number,
    url,
    lines,
    exited,
    kill: (signal) => void child.kill(signal),
  };
}

export interface CliRun {
  code: number | null;
  /** Every line it wrote to stdout and stderr, in order. */
  lines: string[];
  stdout: string;
}

/** Runs `node dist/cli.js ...args` with exactly `env`, in `cwd`, to its end. */
export async function runCliProcess(args: string[], env: Record<string, string>, cwd: string): Promise<CliRun> {
  const child = spawnBuilt(CLI_ENTRY, args, env, cwd);
  const lines: string[] = [];
  collectLines(child, lines);
  let stdout = '';
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((done) => child.once('close', (exitCode) => done(exitCode)));
  return { code, lines, stdout };
}

function spawnBuilt(entry: string, args: string[], env: Record<string, string>, cwd: string): ChildProcess {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first (npm run test:slow does)`);
  return spawn(process.execPath, [entry, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Splits the child's output into lines as it arrives; a last line without a newline is kept at exit. */
function collectLines(child: ChildProcess, lines: string[]): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
    });
    stream?.on('end', () => {
      if (rest) lines.push(rest);
    });
  }
}
