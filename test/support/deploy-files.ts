/**
 * The deployment files as tests read them: every YAML document under a folder, the variables the
 * README's configuration table documents, and shell commands run without blocking the app under test.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Manifest {
  /** Relative to the folder that was read. */
  file: string;
  /** The parsed document, untyped: the tests check its shape. */
  doc: any;
}

/** Every .yaml/.yml file under `dir`, recursively, relative to it. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** Every document of every YAML file under `dir`; a file that does not parse throws, naming it. */
export function readManifests(dir: string): Manifest[] {
  return yamlFiles(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
      return { file, doc: document.toJS() };
    }),
  );
}

/** The variables README's configuration table lists (its first column). */
export function documentedVariables(): Set<string> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  return new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1]));
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in a child process, asynchronously: the app under test keeps answering meanwhile. */
export function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
