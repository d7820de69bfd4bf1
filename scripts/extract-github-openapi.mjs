// Extracts the few GitHub REST operations the service calls (and every component they reach) from
// @octokit/openapi into test/fixtures/github-openapi-extract.json, so the simulator's contract test
// can validate against GitHub's own description without loading the 13 MB file.
// Usage: npm run openapi:extract
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve('@octokit/openapi/package.json', { paths: [root] }));
const sourcePath = join(packageDir, 'generated', 'api.github.com.json');
const outputPath = join(root, 'test', 'fixtures', 'github-openapi-extract.json');

const OPERATIONS = [
  ['/app/installations/{installation_id}/access_tokens', 'post'],
  ['/orgs/{org}/actions/runners/registration-token', 'post'],
  ['/orgs/{org}/actions/runners/generate-jitconfig', 'post'],
  ['/orgs/{org}/actions/runners', 'get'],
  ['/orgs/{org}/actions/runners/{runner_id}', 'get'],
  ['/orgs/{org}/actions/runners/{runner_id}', 'delete'],
  ['/orgs/{org}/actions/runner-groups', 'get'],
  ['/orgs/{org}/actions/runner-groups/{runner_group_id}', 'get'],
];

// Examples are large (a full repository object per token example) and not needed for validation.
const DROPPED_KEYS = new Set(['examples', 'example']);

const source = JSON.parse(readFileSync(sourcePath, 'utf8'));
const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));

function stripExamples(value, parentKey = '') {
  if (Array.isArray(value)) return value.map((item) => stripExamples(item));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [key, child] of Object.entries(value)) {
    // Inside `properties` a key is a field name (a field could be called "example"), not a keyword.
    if (parentKey !== 'properties' && DROPPED_KEYS.has(key)) continue;
    out[key] = stripExamples(child, key);
  }
  return out;
}

function resolvePointer(ref) {
  if (!ref.startsWith('#/')) throw new Error(`External $ref not supported: ${ref}`);
  const parts = ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = source;
  for (const part of parts) {
    node = node?.[part];
    if (node === undefined) throw new Error(`Unresolvable $ref: ${ref}`);
  }
  return { parts, node };
}

const components = {};
const seen = new Set();

function collectRefs(value) {
  if (Array.isArray(value)) {
    value.forEach(collectRefs);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string') {
      if (seen.has(child)) continue;
      seen.add(child);
      const { parts, node } = resolvePointer(child);
      // parts: ['components', kind, name]
      const [, kind, name] = parts;
      const cleaned = stripExamples(node);
      components[kind] ??= {};
      components[kind][name] = cleaned;
      collectRefs(cleaned);
    } else {
      collectRefs(child);
    }
  }
}

const paths = {};
for (const [path, method] of OPERATIONS) {
  const operation = source.paths[path]?.[method];
  if (!operation) throw new Error(`Operation not found: ${method.toUpperCase()} ${path}`);
  const cleaned = stripExamples(operation);
  paths[path] ??= {};
  paths[path][method] = cleaned;
  collectRefs(cleaned);
}

const sortedComponents = {};
for (const kind of Object.keys(components).sort()) {
  sortedComponents[kind] = Object.fromEntries(
    Object.keys(components[kind])
      .sort()
      .map((name) => [name, components[kind][name]]),
  );
}

const extract = {
  openapi: source.openapi,
  info: {
    title: `${source.info.title} (extract)`,
    version: source.info.version,
    description:
      `Operations used by the Runner Token Service, extracted from @octokit/openapi ${pkg.version} ` +
      'generated/api.github.com.json by scripts/extract-github-openapi.mjs. Examples removed.',
  },
  servers: source.servers,
  paths,
  components: sortedComponents,
};

mkdirSync(dirname(outputPath), { recursive: true });
const text = JSON.stringify(extract, null, 2) + '\n';
writeFileSync(outputPath, text);
const counts = Object.entries(sortedComponents)
  .map(([kind, entries]) => `${Object.keys(entries).length} ${kind}`)
  .join(', ');
console.log(`Wrote ${outputPath} (${(text.length / 1024).toFixed(1)} KiB; ${OPERATIONS.length} operations; ${counts})`);
