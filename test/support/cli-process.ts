/**
 * The CLI as a process of its own, `node cli.js …`, for what only a process shows: signals, a kill
 * between two writes, a restart. The sources are transpiled once per test file into a temporary
 * folder that sees the project's node_modules (no type check here: `npm run typecheck` does it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

export interface BuiltCli {
  /** The folder the processes run in: no .env of the developer's is read there. */
  folder: string;
  cliPath: string;
  remove(): void;
}

/** src/ as ES modules, with the project's compiler settings, in a folder of its own. */
export function buildCli(): BuiltCli {
  const folder = mkdtempSync(join(tmpdir(), 'rts-cli-build-'));
  const { config } = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => readFileSync(path, 'utf8'));
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, ROOT);
  // transpileModule cannot read package.json to learn that these are ES modules: say so.
  const compilerOptions = { ...options, module: ts.ModuleKind.ESNext, sourceMap: false, inlineSourceMap: false };
  for (const file of sourceFiles(SRC)) {
    const output = join(folder, 'src', relative(SRC, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, ts.transpileModule(readFileSync(file, 'utf8'), { fileName: file, compilerOptions }).outputText);
  }
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(folder, 'node_modules'), 'dir');
  return { folder, cliPath: join(folder, 'src', 'cli.js'), remove: () => rmSync(folder, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One running CLI process, with what it printed so far. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  /** Starts `node cli.js ...args` with exactly `env` (and PATH) as its environment. */
  constructor(cli: BuiltCli, args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [cli.cliPath, ...args], {
      cwd: cli.folder,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits until `done()` holds, while the process runs; fails with what it printed otherwise. */
  async waitFor(what: string, done: () => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let running = true;
    void this.exited.then(() => (running = false));
    while (!done()) {
      if (!running || Date.now() > deadline) {
        throw new Error(`${running ? 'Timed out' : 'The CLI exited'} waiting for ${what}; stderr:\n${this.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
