/**
 * The shape of src/, as the import graph shows it: no cycles, no oversized files, the database layer
 * knowing no feature, and the simulator out of production's way. Read with the TypeScript compiler's
 * own parser, so every import form counts (type-only, re-exports, dynamic import()).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const MAX_LINES = 400;

interface Import {
  target: string;
  /** `import()`: loaded only when that code runs. */
  dynamic: boolean;
  /** `import type`: erased from the built code. */
  typeOnly: boolean;
  /** Inside a function: runs only when that function is called, not when the module loads. */
  deferred: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The project files a file imports (paths relative to src/), statically or with import(). */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (specifier: ts.Expression | undefined, kind: Omit<Import, 'target'>) => {
    if (!specifier || !ts.isStringLiteralLike(specifier) || !specifier.text.startsWith('.')) return;
    const target = resolve(dirname(file), specifier.text.replace(/\.js$/, '.ts'));
    found.push({ target: relative(SRC, target), ...kind });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      add(node.moduleSpecifier, { dynamic: false, typeOnly: node.importClause?.isTypeOnly === true, deferred: false });
    }
    if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, { dynamic: false, typeOnly: node.isTypeOnly, deferred: false });
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], { dynamic: true, typeOnly: false, deferred: ts.findAncestor(node, ts.isFunctionLike) !== undefined });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = sourceFiles(SRC);
const texts = new Map(files.map((file) => [relative(SRC, file), readFileSync(file, 'utf8')]));
const graph = new Map([...texts].map(([path, text]) => [path, importsOf(join(SRC, path), text)]));

/** Every cycle of static imports, each as the path that closes it. */
function findCycles(): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const walk = (file: string) => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const { target, dynamic } of graph.get(file) ?? []) {
      if (dynamic || !graph.has(target)) continue;
      if (state.get(target) === 'visiting') cycles.push([...stack.slice(stack.indexOf(target)), target]);
      else if (!state.has(target)) walk(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) walk(file);
  return cycles;
}

describe('architecture of src/', () => {
  it('reads the whole tree, every import resolving to a file of it', () => {
    expect(files.length).toBeGreaterThan(50);
    const unresolved = [...graph].flatMap(([file, imports]) =>
      imports.filter(({ target }) => !graph.has(target) && !target.endsWith('.json')).map(({ target }) => `${file} -> ${target}`),
    );
    expect(unresolved).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(findCycles().map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it(`has no file over ${MAX_LINES} lines, the simulator included`, () => {
    const long = [...texts]
      .map(([file, text]) => ({ file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('keeps the database layer free of feature code: from database/ only config/ and common/ are reachable', () => {
    const allowed = (file: string) => ['database/', 'config/', 'common/'].some((folder) => file.startsWith(folder));
    const offending: string[] = [];
    const seen = new Set<string>();
    const walk = (file: string, path: string[]) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { target } of graph.get(file) ?? []) {
        if (!allowed(target)) offending.push([...path, target].join(' -> '));
        else walk(target, [...path, target]);
      }
    };
    for (const file of graph.keys()) if (file.startsWith('database/')) walk(file, [file]);
    expect(offending).toEqual([]);
  });

  it('never loads the GitHub simulator in production: main.ts imports it only when called, for --demo', () => {
    const intoSimulator = [...graph]
      .filter(([file]) => !file.startsWith('github/simulator/'))
      .flatMap(([file, imports]) =>
        imports.filter(({ target }) => target.startsWith('github/simulator/')).map((imported) => ({ file, ...imported })),
      );
    // Loaded at run time only: type-only imports are erased, and the one import() waits for its function.
    const loaded = intoSimulator.filter(({ typeOnly }) => !typeOnly);
    expect(loaded.map(({ file, target, dynamic, deferred }) => ({ file, target, dynamic, deferred }))).toEqual([
      { file: 'main.ts', target: 'github/simulator/github-simulator.ts', dynamic: true, deferred: true },
    ]);
    // ...and that function runs only for the demo's simulated GitHub.
    expect(texts.get('main.ts')).toMatch(/if \(config\.github\.simulated\) \(\{ config, simulator \} = await startSimulatedGithub\(config\)\);/);
  });
});
