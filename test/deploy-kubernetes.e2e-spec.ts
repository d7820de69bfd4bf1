/**
 * deploy/kubernetes: every manifest valid against the Kubernetes schemas (kubernetes-models); every
 * reference (ConfigMaps, the Secret and their keys, volumes, service accounts, ports, selectors)
 * resolved inside the base; settings and policy the service starts with; every probe path served by
 * the app. And the JIT runner example, run against the service: its token accepted by the base's
 * policy, the config handed to the runner in ACTIONS_RUNNER_INPUT_JITCONFIG, never on a command
 * line or in its output.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import request from 'supertest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../src/config/config.loader.js';
import { loadPolicy, policyLoadOptions } from '../src/policy/policy.loader.js';
import { PolicyStore } from '../src/policy/policy.store.js';
import { startTestApp, type TestApp } from './support/app.js';
import { documentedVariables, type Manifest, readManifests, REPO_ROOT, run, yamlFiles } from './support/deploy-files.js';
import { kubernetesClaims } from './support/oidc.js';
import { writePolicyFile, type PolicyFile } from './support/policy.js';

const BASE = join(REPO_ROOT, 'deploy/kubernetes');

// The manifests are parsed YAML, checked by validate(), not by the compiler.
type Model = new (data: any) => { validate(): void };
/** The kinds the base may use; another kind fails the schema test until it is added here. */
const MODELS: Record<string, Model> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

const manifests = readManifests(BASE);
const kustomization = manifests.find((manifest) => manifest.file === 'kustomization.yaml')?.doc;
/** The Secrets kustomize generates: their files are the operator's, never in the repository. */
const generated: Manifest[] = (kustomization?.secretGenerator ?? []).map((generator: { name: string; files: string[] }) => ({
  file: 'kustomization.yaml',
  doc: {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: generator.name },
    data: Object.fromEntries(generator.files.map((entry) => [entry.includes('=') ? entry.split('=')[0] : basename(entry), ''])),
  },
}));
const objects = [...manifests.filter((manifest) => manifest.doc?.kind !== 'Kustomization'), ...generated];
/** The base is the folder's top level; examples/ are applied on their own. */
const base = objects.filter((manifest) => !manifest.file.includes('/'));
const examples = objects.filter((manifest) => manifest.file.startsWith('examples/'));

const find = (kind: string, name: string, among = base) =>
  among.find((manifest) => manifest.doc.kind === kind && manifest.doc.metadata.name === name)?.doc;
const ofKind = (kind: string, among = base) => among.filter((manifest) => manifest.doc.kind === kind).map((manifest) => manifest.doc);
const workloads = (among: Manifest[]) => among.filter((manifest) => ['Deployment', 'Job'].includes(manifest.doc.kind));
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);

const deployment = find('Deployment', 'runner-token-service');
const server = deployment.spec.template.spec.containers[0];
const settings = find('ConfigMap', 'runner-token-service-config');
const policyText: string = find('ConfigMap', 'runner-token-service-policy').data['policy.yaml'];

/** What a pod refers to that its scope (the base, or its own example file) does not define. */
function unresolvedReferences(workload: Manifest, scope: Manifest[]): string[] {
  const spec = workload.doc.spec.template.spec;
  const where = `${workload.file} ${workload.doc.kind}/${workload.doc.metadata.name}`;
  const keysOf = (kind: string, name: string): string[] | undefined => {
    const object = find(kind, name, scope);
    return object ? Object.keys({ ...object.data, ...object.stringData }) : undefined;
  };
  const problems: string[] = [];
  const need = (kind: string, name: string, key?: string) => {
    const keys = keysOf(kind, name);
    if (!keys) problems.push(`${where}: no ${kind} ${name}`);
    else if (key !== undefined && !keys.includes(key)) problems.push(`${where}: ${kind} ${name} has no key ${key}`);
  };
  if (spec.serviceAccountName && !find('ServiceAccount', spec.serviceAccountName, scope)) {
    problems.push(`${where}: no ServiceAccount ${spec.serviceAccountName}`);
  }
  const volumes: { name: string; configMap?: { name: string; items?: { key: string }[] }; secret?: { secretName: string; items?: { key: string }[] } }[] = spec.volumes ?? [];
  for (const volume of volumes) {
    if (volume.configMap) for (const key of volume.configMap.items?.map((item) => item.key) ?? [undefined]) need('ConfigMap', volume.configMap.name, key);
    if (volume.secret) for (const key of volume.secret.items?.map((item) => item.key) ?? [undefined]) need('Secret', volume.secret.secretName, key);
  }
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef) need('ConfigMap', source.configMapRef.name);
      if (source.secretRef) need('Secret', source.secretRef.name);
    }
    for (const variable of container.env ?? []) {
      const from = variable.valueFrom ?? {};
      if (from.configMapKeyRef) need('ConfigMap', from.configMapKeyRef.name, from.configMapKeyRef.key);
      if (from.secretKeyRef) need('Secret', from.secretKeyRef.name, from.secretKeyRef.key);
    }
    for (const mount of container.volumeMounts ?? []) {
      if (!volumes.some((volume) => volume.name === mount.name)) problems.push(`${where}: no volume ${mount.name}`);
    }
  }
  return problems;
}

/** Where the pod finds a file that a volume puts there: the mount path and the item's path (or the key). */
function mountedFiles(volumeKind: 'secret' | 'configMap'): string[] {
  const spec = deployment.spec.template.spec;
  return spec.volumes
    .filter((volume: Record<string, unknown>) => volume[volumeKind])
    .flatMap((volume: Record<string, { items?: { key: string; path: string }[]; name?: string; secretName?: string }>) => {
      const mount = server.volumeMounts.find((candidate: { name: string }) => candidate.name === volume.name);
      const source = volume[volumeKind];
      const object = find(volumeKind === 'secret' ? 'Secret' : 'ConfigMap', (source.secretName ?? source.name) as string);
      const paths = source.items?.map((item) => item.path) ?? Object.keys(object.data);
      return paths.map((path: string) => `${mount.mountPath}/${path}`);
    });
}

/** Real paths of the JIT script's tools, or undefined where one is missing. */
const TOOLS = Object.fromEntries(
  ['bash', 'curl', 'jq'].map((tool) => [tool, ['/usr/local/bin', '/usr/bin', '/bin'].map((dir) => join(dir, tool)).find((path) => existsSync(path))]),
);

let t: TestApp;
let baseUrl: string;
let policy: PolicyFile;
let work: string;

beforeAll(async () => {
  // The service on the base's own policy, whose cluster issuer is then played by the test's issuer:
  // same audience, same rules.
  policy = writePolicyFile(policyText);
  t = await startTestApp({ policyFile: policy.path });
  const swapped = parse(policyText);
  const cluster = swapped.issuers.find((issuer: { name: string }) => issuer.name === 'cluster');
  Object.assign(cluster, { issuer: t.oidc.issuer, jwks_url: t.oidc.jwksUrl });
  policy.write(stringify(swapped));
  expect(t.app.get(PolicyStore).reload()).toEqual({ result: 'reloaded' });
  await t.app.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  work = mkdtempSync(join(tmpdir(), 'rts-deploy-'));
});

afterAll(async () => {
  await t?.close();
  policy?.remove();
  rmSync(work, { recursive: true, force: true });
});

describe('Kubernetes manifests', () => {
  it('validates every document against the Kubernetes schemas', () => {
    const problems = objects.flatMap(({ file, doc }) => {
      const model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      if (!model) return [`${file}: no schema for ${doc.apiVersion} ${doc.kind}`];
      try {
        new model(doc).validate();
        return [];
      } catch (error) {
        return [`${file} ${doc.kind}/${doc.metadata?.name}: ${(error as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
    expect(objects.length).toBeGreaterThanOrEqual(10);
  });

  it('lists in kustomization.yaml every manifest of the base, and only files that exist', () => {
    const topLevel = yamlFiles(BASE).filter((file) => !file.includes('/') && file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(topLevel);
    // The Secret's files are the operator's: never committed.
    const sources = kustomization.secretGenerator.flatMap((generator: { files: string[] }) => generator.files.map((entry) => entry.split('=').pop()));
    expect(sources.every((source: string) => source.startsWith('secrets/'))).toBe(true);
    expect(readFileSync(join(REPO_ROOT, '.gitignore'), 'utf8').split('\n')).toContain('deploy/kubernetes/secrets/');
  });

  it('resolves every ConfigMap, Secret, key, volume and service account a pod refers to', () => {
    const problems = [
      ...workloads(base).flatMap((workload) => unresolvedReferences(workload, base)),
      ...workloads(examples).flatMap((workload) => unresolvedReferences(workload, examples.filter((m) => m.file === workload.file))),
    ];
    expect(problems).toEqual([]);
    expect(workloads(base).map((workload) => workload.doc.kind).sort()).toEqual(['Deployment', 'Job']);
  });

  it('points the Service, the probes, the NetworkPolicy and the PodDisruptionBudget at the server pods and their ports', () => {
    const labels = deployment.spec.template.metadata.labels;
    const ports: { name: string; containerPort: number }[] = server.ports;
    const declared = (port: string | number) => ports.some((candidate) => candidate.name === port || candidate.containerPort === port);
    expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);

    const service = find('Service', 'runner-token-service');
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(service.spec.ports.filter((port: { targetPort: string }) => !declared(port.targetPort))).toEqual([]);
    // Ready for a ServiceMonitor: a named port, which serves /metrics too.
    expect(service.spec.ports.map((port: { name: string }) => port.name)).toEqual(['http']);

    const probes = ['startupProbe', 'livenessProbe', 'readinessProbe'].map((name) => server[name]?.httpGet);
    expect(probes.filter((probe) => !probe || !declared(probe.port))).toEqual([]);

    const networkPolicy = ofKind('NetworkPolicy')[0];
    for (const workload of workloads(base)) {
      expect(matches(networkPolicy.spec.podSelector.matchLabels, workload.doc.spec.template.metadata.labels)).toBe(true);
    }
    const ingressPorts = networkPolicy.spec.ingress.flatMap((rule: { ports: { port: string }[] }) => rule.ports.map((port) => port.port));
    expect(ingressPorts.filter((port: string) => !declared(port))).toEqual([]);
    expect(matches(ofKind('PodDisruptionBudget')[0].spec.selector.matchLabels, labels)).toBe(true);
  });

  it('runs two replicas, liveness on /healthz and readiness on /readyz, with resources, a read-only root and no root', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(server.livenessProbe.httpGet.path).toBe('/healthz');
    expect(server.readinessProbe.httpGet.path).toBe('/readyz');
    for (const workload of workloads(base)) {
      const spec = workload.doc.spec.template.spec;
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      for (const container of spec.containers) {
        expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        expect(container.resources.requests.memory).toBeDefined();
        expect(container.resources.limits.memory).toBeDefined();
      }
    }
  });

  it('answers 200 on the path of every probe of the base', async () => {
    const paths = workloads(base).flatMap((workload) =>
      workload.doc.spec.template.spec.containers.flatMap((container: Record<string, { httpGet?: { path: string } }>) =>
        ['startupProbe', 'livenessProbe', 'readinessProbe'].flatMap((name) => container[name]?.httpGet?.path ?? []),
      ),
    );
    expect(new Set(paths)).toEqual(new Set(['/healthz', '/readyz']));
    for (const path of paths) await request(t.server).get(path).expect(200);
  });

  it('gives the service documented settings it starts with, and the key and the policy where they are mounted', () => {
    const documented = documentedVariables();
    expect(Object.keys(settings.data).filter((name) => !documented.has(name))).toEqual([]);
    expect(mountedFiles('secret')).toContain(settings.data.GITHUB_APP_PRIVATE_KEY_PATH);
    expect(mountedFiles('configMap')).toContain(settings.data.POLICY_FILE);

    const keyFile = join(work, 'private-key.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const policyFile = join(work, 'policy.yaml');
    writeFileSync(policyFile, policyText);
    const config = loadConfig({
      ...settings.data,
      DATABASE_URL: 'postgres://runner_token_service:secret@postgres:5432/runner_token_service',
      GITHUB_APP_PRIVATE_KEY_PATH: keyFile,
      POLICY_FILE: policyFile,
    });
    expect(config.auth.enabled).toBe(true);
    expect(config.app.host).toBe('0.0.0.0');
    expect(String(config.app.port)).toBe(String(server.ports[0].containerPort));
    const loaded = loadPolicy(policyLoadOptions(config.auth));
    expect(loaded.policy.rules?.map((rule) => rule.name)).toEqual(['ci-runner-provisioner']);
  });
});

describe('the JIT runner Job example', () => {
  const job = find('Job', 'github-runner-jit', examples);
  const pod = job.spec.template.spec;
  const container = pod.containers[0];
  const env: Record<string, string> = Object.fromEntries(container.env.map((variable: { name: string; value: string }) => [variable.name, variable.value]));
  const projected = pod.volumes.find((volume: { projected?: unknown }) => volume.projected).projected.sources[0].serviceAccountToken;
  const script: string = container.args.join('\n');
  // The script needs what the actions-runner image has: bash, curl and jq.
  const withTools = Object.values(TOOLS).every(Boolean) ? it : it.skip;

  it("asks for a token with the audience the base policy's issuer accepts, and calls the base's Service", () => {
    const cluster = parse(policyText).issuers.find((issuer: { name: string }) => issuer.name === 'cluster');
    expect([cluster.audience].flat()).toContain(projected.audience);
    const service = find('Service', 'runner-token-service');
    const url = new URL(env.TOKEN_SERVICE_URL);
    expect(url.hostname).toBe(`${service.metadata.name}.${kustomization.namespace}.svc`);
    expect(url.port).toBe(String(service.spec.ports[0].port));
    expect(env.TOKEN_FILE.startsWith(`${container.volumeMounts[0].mountPath}/`)).toBe(true);
    expect(env.TOKEN_FILE.endsWith(`/${projected.path}`)).toBe(true);
  });

  /**
   * Runs the Job's script with the service as its target, curl and jq wrapped to record their
   * command lines, and a run.sh that records how it was started.
   */
  async function runScript(ask: { RUNNER_PREFIX: string; RUNNER_LABELS: string }) {
    const dir = mkdtempSync(join(work, 'pod-'));
    const token = await t.oidc.token(kubernetesClaims(job.metadata.namespace, pod.serviceAccountName), { audience: projected.audience });
    writeFileSync(join(dir, 'token'), token);
    const shims = join(dir, 'bin');
    mkdirSync(shims);
    const argv = join(dir, 'argv.log');
    for (const tool of ['curl', 'jq']) {
      writeFileSync(join(shims, tool), `#!${TOOLS.bash}\nprintf '%s\\n' "$@" >> '${argv}'\nexec '${TOOLS[tool]}' "$@"\n`, { mode: 0o755 });
    }
    writeFileSync(
      join(dir, 'run.sh'),
      `#!${TOOLS.bash}\nprintf '%s' "$#" > started-with-args\nprintf '%s' "$ACTIONS_RUNNER_INPUT_JITCONFIG" > jitconfig\n`,
      { mode: 0o755 },
    );
    // --norc: bash reads ~/.bashrc when its input is a socket, as a child's pipes are here (not in the pod).
    const result = await run(TOOLS.bash as string, ['--norc', '-c', script], {
      cwd: dir,
      env: { PATH: `${shims}:/usr/local/bin:/usr/bin:/bin`, TOKEN_SERVICE_URL: baseUrl, TOKEN_FILE: join(dir, 'token'), ...ask },
    });
    const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined);
    return { ...result, token, argv: read('argv.log') ?? '', startedWithArgs: read('started-with-args'), jitConfig: read('jitconfig') };
  }

  withTools('starts the runner with the config in ACTIONS_RUNNER_INPUT_JITCONFIG, never on a command line or in its output', async () => {
    const launched = await runScript({ RUNNER_PREFIX: env.RUNNER_PREFIX, RUNNER_LABELS: env.RUNNER_LABELS });
    expect({ code: launched.code, stderr: launched.stderr }).toEqual({ code: 0, stderr: '' });
    expect(launched.startedWithArgs).toBe('0');
    const files = JSON.parse(Buffer.from(launched.jitConfig ?? '', 'base64').toString('utf8'));
    const registered = JSON.parse(Buffer.from(files['.runner'], 'base64').toString('utf8'));

    const listed = await request(t.server).get('/api/v1/runners').auth(launched.token, { type: 'bearer' }).expect(200);
    expect(listed.body.runners).toHaveLength(1);
    expect(listed.body.runners[0]).toMatchObject({ runner_name: registered.AgentName, labels: ['self-hosted', 'linux', 'x64', 'kubernetes', 'docker'] });
    expect(registered.AgentName).toMatch(/^k8s-runner-[0-9a-f]{6}$/);
    // curl and jq did run, with neither secret among their arguments.
    expect(launched.argv).toContain('/api/v1/runners/jit');
    for (const secret of [launched.token, launched.jitConfig as string]) {
      expect(launched.argv).not.toContain(secret);
      expect(launched.stdout + launched.stderr).not.toContain(secret);
    }
  });

  withTools('stops with the refusal, and never starts the runner, when the policy refuses the request', async () => {
    const refused = await runScript({ RUNNER_PREFIX: env.RUNNER_PREFIX, RUNNER_LABELS: 'gpu' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('LABEL_NOT_ALLOWED');
    expect(refused.startedWithArgs).toBeUndefined();
    expect(refused.stderr).not.toContain(refused.token);
  });
});
