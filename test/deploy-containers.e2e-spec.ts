/**
 * The container files, read as Docker and Compose read them (no image can be built here): the
 * Dockerfile's runtime stage and its HEALTHCHECK, run against the service; what .dockerignore lets
 * into the build context; docker-compose.yml's two profiles, the demo's settings loaded as the
 * service loads them, and the service's health check run against the service.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/config.loader.js';
import { startTestApp, type TestApp } from './support/app.js';
import { REPO_ROOT, run } from './support/deploy-files.js';
import { closedPort } from './support/net.js';

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages, each with its instructions (continuation lines joined, comments dropped). */
function dockerfileStages(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim());
  const stages: Stage[] = [];
  for (const line of lines.filter((candidate) => candidate && !candidate.startsWith('#'))) {
    const [, keyword, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [from, , name] = args.split(/\s+/);
      stages.push({ from, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** A .dockerignore pattern as a regular expression over slash-separated paths. */
function patternToRegex(pattern: string): RegExp {
  const source = pattern
    .replace(/^\/+|\/+$/g, '')
    .split(/(\*\*\/|\*\*|\*|\?)/)
    .map((part) => {
      if (part === '**/') return '(?:.*/)?';
      if (part === '**') return '.*';
      if (part === '*') return '[^/]*';
      if (part === '?') return '[^/]';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/** Docker's rule: the last pattern matching the path or one of its parent folders decides; `!` lets it back in. */
function leftOutOfContext(path: string, patterns: string[]): boolean {
  const prefixes = path.split('/').map((_, index, parts) => parts.slice(0, index + 1).join('/'));
  let excluded = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const regex = patternToRegex(negated ? pattern.slice(1) : pattern);
    if (prefixes.some((prefix) => regex.test(prefix))) excluded = !negated;
  }
  return excluded;
}


const stages = dockerfileStages(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1) as Stage;
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
const dockerignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

let t: TestApp;
let port: number;

beforeAll(async () => {
  t = await startTestApp();
  await t.app.listen(0, '127.0.0.1');
  port = (t.app.getHttpServer().address() as AddressInfo).port;
});

afterAll(async () => {
  await t?.close();
});

describe('Dockerfile', () => {
  const runtimeOnly = (keyword: string) => runtime.instructions.filter((instruction) => instruction.keyword === keyword);

  it('runs node dist/main.js as a user other than root', () => {
    expect(JSON.parse(runtimeOnly('CMD').at(-1)?.args ?? 'null')).toEqual(['node', 'dist/main.js']);
    const user = runtimeOnly('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
  });

  it('ships production dependencies, dist/ and package.json only', () => {
    const copies = runtimeOnly('COPY').map((instruction) => instruction.args);
    expect(runtimeOnly('ADD')).toEqual([]);
    const fromStage = (stage: string) => copies.find((args) => args.startsWith(`--from=${stage} `));
    const dependencies = stages.find((stage) => fromStage(stage.name ?? '')?.includes('/node_modules'));
    expect(dependencies?.instructions.some((instruction) => /npm ci .*--omit=dev/.test(instruction.args))).toBe(true);
    expect(copies.map((args) => args.split(/\s+/).at(-2))).toEqual(['/app/node_modules', '/app/dist', 'package.json']);
  });

  it("has a HEALTHCHECK that passes while the service answers /healthz, and fails when nothing listens", async () => {
    const healthcheck = runtimeOnly('HEALTHCHECK')[0]?.args ?? '';
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD') + 'CMD'.length));
    expect(command.join(' ')).toContain('/healthz');
    const [file, ...args] = command;
    expect(file).toBe('node');
    expect((await run(process.execPath, args, { env: { PORT: String(port) } })).code).toBe(0);
    expect((await run(process.execPath, args, { env: { PORT: String(await closedPort()) } })).code).toBe(1);
  });
});

describe('.dockerignore', () => {
  it('keeps .env files, keys, data/ and the Kubernetes secrets out of the build context, and lets the build in', () => {
    const secret = ['.env', '.env.local', 'github-app-private-key.pem', 'src/keys/app.key', 'data/pg/PG_VERSION', 'src/data/x', 'deploy/kubernetes/secrets/database-url', 'node_modules/pg/package.json', 'dist/main.js', 'test/support/app.ts', '.git/config'];
    expect(secret.filter((path) => !leftOutOfContext(path, dockerignore))).toEqual([]);
    const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/main.ts', 'src/github/simulator/standalone.ts'];
    expect(needed.filter((path) => leftOutOfContext(path, dockerignore))).toEqual([]);
  });
});

describe('docker-compose.yml', () => {
  const services: Record<string, Record<string, any>> = compose.services;
  const service = services['runner-token-service'];
  const demo = services.demo;

  it('gives every service a profile, so that the demo starts nothing that needs a GitHub App', () => {
    const profiles = Object.fromEntries(Object.entries(services).map(([name, definition]) => [name, definition.profiles]));
    expect(profiles).toEqual({
      postgres: ['production'],
      'init-db': ['production'],
      'runner-token-service': ['production'],
      demo: ['demo'],
    });
  });

  it('starts the demo with settings the service accepts: all interfaces in the container, this machine only outside', () => {
    expect(demo.command).toEqual(['node', 'dist/main.js', '--demo']);
    const config = loadConfig(demo.environment, { demo: true });
    expect(config.app.host).toBe('0.0.0.0');
    expect(config.github.simulated).toBe(true);
    expect(config.database.kind).toBe('pglite');
    expect(demo.ports).toEqual([`127.0.0.1:${config.app.port}:${config.app.port}`]);
  });

  it('keeps the database in a volume and starts the service after init-db has applied the migrations', () => {
    expect(services.postgres.volumes[0].split(':')[0]).toBe(Object.keys(compose.volumes)[0]);
    expect(services['init-db'].command).toEqual(['node', 'dist/cli.js', 'init-db']);
    expect(services['init-db'].depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(service.depends_on).toEqual({ 'init-db': { condition: 'service_completed_successfully' } });
    expect(service.environment.DATABASE_URL).toBe(services['init-db'].environment.DATABASE_URL);
  });

  it("has a health check that passes while the service is ready", async () => {
    const [kind, file, ...args] = service.healthcheck.test;
    expect([kind, file]).toEqual(['CMD', 'node']);
    expect(args.join(' ')).toContain('/readyz');
    expect((await run(process.execPath, args, { env: { PORT: String(port) } })).code).toBe(0);
    expect((await run(process.execPath, args, { env: { PORT: String(await closedPort()) } })).code).toBe(1);
  });
});
