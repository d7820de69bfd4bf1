import { BASE32, randomString } from './simulator.util.js';

/** The org's self-hosted runners as GitHub holds them, with their labels and the registration tokens issued. */

export type GithubRunnerStatus = 'online' | 'offline';

export interface SimulatedRunnerLabel {
  id: number;
  name: string;
  type: 'read-only' | 'custom';
}

export interface SimulatedRunner {
  id: number;
  name: string;
  os: string;
  status: GithubRunnerStatus;
  busy: boolean;
  ephemeral: boolean;
  runner_group_id: number;
  labels: SimulatedRunnerLabel[];
  version?: string;
}

/** What `./config.sh --url … --token … --name … --labels … [--ephemeral]` sends GitHub. */
export interface RegisterRunnerOptions {
  token: string;
  name: string;
  labels?: string[];
  ephemeral?: boolean;
  /** `--runnergroup NAME`; config.sh's default is the org's default group. */
  runnerGroup?: string;
}

/** An org runner group, as GitHub lists it (the fields the service reads). */
export interface SimulatedRunnerGroup {
  id: number;
  name: string;
  default: boolean;
}

export interface AddRunnersOptions {
  namePrefix?: string;
  /** 'unknown' for a runner that never connected (a JIT runner not started yet); default linux. */
  os?: string;
  status?: GithubRunnerStatus;
  busy?: boolean;
  ephemeral?: boolean;
  labels?: string[];
}

export const DEFAULT_RUNNER_GROUP_ID = 1;
export const DEFAULT_RUNNER_GROUP_NAME = 'Default';

const RUNNER_VERSION = '2.330.0';
const REGISTRATION_TOKEN_LIFETIME_SECONDS = 3600;
// GitHub shows these as read-only labels when a JIT request names them (see the description's example).
const DEFAULT_LABEL_NAMES = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm', 'arm64']);

/** Returns its own runner objects (the REST answers serialize them); callers outside get clones. */
export class RunnerStore {
  private readonly runnersById = new Map<number, SimulatedRunner>();
  private readonly runnerIdsByName = new Map<string, number>();
  private readonly labelIds = new Map<string, number>();
  /** Registration tokens issued, with when each expires (ms); config.sh needs a live one. */
  private readonly registrationTokens = new Map<string, number>();
  // Map iteration order is id order (ids only grow); cache the array for pagination over many runners.
  private runnerListCache: SimulatedRunner[] | null = null;
  private readonly groups = new Map<number, SimulatedRunnerGroup>([
    [DEFAULT_RUNNER_GROUP_ID, { id: DEFAULT_RUNNER_GROUP_ID, name: DEFAULT_RUNNER_GROUP_NAME, default: true }],
  ]);
  private nextRunnerId = 1;
  private nextLabelId = 1;

  get size(): number {
    return this.runnersById.size;
  }

  get(id: number): SimulatedRunner | undefined {
    return this.runnersById.get(id);
  }

  findByName(name: string): SimulatedRunner | undefined {
    const id = this.runnerIdsByName.get(name);
    return id === undefined ? undefined : this.runnersById.get(id);
  }

  /** All runners in id order. */
  list(): SimulatedRunner[] {
    this.runnerListCache ??= Array.from(this.runnersById.values());
    return this.runnerListCache;
  }

  setStatus(id: number, change: { status?: GithubRunnerStatus; busy?: boolean }): SimulatedRunner {
    const runner = this.runnersById.get(id);
    if (!runner) throw new Error(`No runner with id ${id}`);
    if (change.status !== undefined) {
      runner.status = change.status;
      // A runner that connects reports its OS and version; before that GitHub shows "unknown".
      if (change.status === 'online' && runner.os === 'unknown') {
        runner.os = 'linux';
        runner.version = RUNNER_VERSION;
      }
    }
    if (change.busy !== undefined) runner.busy = change.busy;
    return structuredClone(runner);
  }

  /** The runner finished a job: an ephemeral (JIT) runner is removed by GitHub, others go idle. */
  completeJob(id: number): void {
    const runner = this.runnersById.get(id);
    if (!runner) throw new Error(`No runner with id ${id}`);
    if (runner.ephemeral) {
      this.remove(runner);
    } else {
      runner.busy = false;
    }
  }

  add(count: number, options: AddRunnersOptions = {}): SimulatedRunner[] {
    const prefix = options.namePrefix ?? 'sim-runner';
    const status = options.status ?? 'online';
    const labelNames = options.labels ?? ['self-hosted', 'Linux', 'X64'];
    const created: SimulatedRunner[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.nextRunnerId++;
      let name = `${prefix}-${id}`;
      for (let suffix = 2; this.runnerIdsByName.has(name); suffix++) name = `${prefix}-${id}-${suffix}`;
      const runner: SimulatedRunner = {
        id,
        name,
        os: options.os ?? 'linux',
        status,
        busy: options.busy ?? false,
        ephemeral: options.ephemeral ?? false,
        runner_group_id: DEFAULT_RUNNER_GROUP_ID,
        labels: this.toLabels(labelNames),
        version: RUNNER_VERSION,
      };
      this.insert(runner);
      created.push(structuredClone(runner));
    }
    return created;
  }

  /**
   * What `./config.sh` does: registers a runner with a registration token this simulator issued and
   * that has not expired. The runner is configured but not started: offline, idle, its OS known.
   * Like config.sh, it adds the default labels (self-hosted, OS, architecture) before the custom ones.
   */
  register(options: RegisterRunnerOptions): SimulatedRunner {
    const expiresAt = this.registrationTokens.get(options.token);
    if (expiresAt === undefined || expiresAt < Date.now()) throw new Error('Invalid or expired registration token');
    if (this.runnerIdsByName.has(options.name)) throw new Error(`A runner with the name ${options.name} already exists`);
    const groupName = options.runnerGroup ?? DEFAULT_RUNNER_GROUP_NAME;
    const group = [...this.groups.values()].find((candidate) => candidate.name === groupName);
    if (!group) throw new Error(`Could not find any self-hosted runner group named "${groupName}".`);
    const runner: SimulatedRunner = {
      id: this.nextRunnerId++,
      name: options.name,
      os: 'linux',
      status: 'offline',
      busy: false,
      ephemeral: options.ephemeral ?? false,
      runner_group_id: group.id,
      labels: this.toLabels(['self-hosted', 'Linux', 'X64', ...(options.labels ?? [])]),
      version: RUNNER_VERSION,
    };
    this.insert(runner);
    return structuredClone(runner);
  }

  /** A JIT runner as generate-jitconfig creates it: ephemeral, and "unknown" OS until it connects. */
  addJitRunner(request: { name: string; runner_group_id: number; labels: string[] }): SimulatedRunner {
    const runner: SimulatedRunner = {
      id: this.nextRunnerId++,
      name: request.name,
      os: 'unknown',
      status: 'offline',
      busy: false,
      ephemeral: true,
      runner_group_id: request.runner_group_id,
      labels: this.toLabels(request.labels),
    };
    this.insert(runner);
    return runner;
  }

  /** The org's runner groups, default first. */
  runnerGroups(): SimulatedRunnerGroup[] {
    return [...this.groups.values()].map((group) => ({ ...group }));
  }

  runnerGroup(id: number): SimulatedRunnerGroup | undefined {
    const group = this.groups.get(id);
    return group && { ...group };
  }

  /** Creates a runner group (an org admin's job on GitHub); names are unique, as on GitHub. */
  addRunnerGroup(name: string): SimulatedRunnerGroup {
    if ([...this.groups.values()].some((group) => group.name.toLowerCase() === name.toLowerCase())) {
      throw new Error(`A runner group named "${name}" already exists`);
    }
    const group = { id: Math.max(...this.groups.keys()) + 1, name, default: false };
    this.groups.set(group.id, group);
    return { ...group };
  }

  remove(runner: SimulatedRunner): void {
    this.runnersById.delete(runner.id);
    this.runnerIdsByName.delete(runner.name);
    this.runnerListCache = null;
  }

  issueRegistrationToken(): { token: string; expiresAt: Date } {
    const expiresAt = new Date(Date.now() + REGISTRATION_TOKEN_LIFETIME_SECONDS * 1000);
    const token = randomString(BASE32, 29);
    this.registrationTokens.set(token, expiresAt.getTime());
    return { token, expiresAt };
  }

  /** Forgets the runners; label ids, registration tokens and the id sequence stay, as on GitHub. */
  clear(): void {
    this.runnersById.clear();
    this.runnerIdsByName.clear();
    this.runnerListCache = null;
  }

  private insert(runner: SimulatedRunner): void {
    this.runnersById.set(runner.id, runner);
    this.runnerIdsByName.set(runner.name, runner.id);
    this.runnerListCache = null;
  }

  /** Labels keep one id per name across the org, like GitHub's; duplicate names collapse. */
  private toLabels(names: string[]): SimulatedRunnerLabel[] {
    const labels: SimulatedRunnerLabel[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      const key = name.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      let id = this.labelIds.get(key);
      if (id === undefined) {
        id = this.nextLabelId++;
        this.labelIds.set(key, id);
      }
      labels.push({ id, name, type: DEFAULT_LABEL_NAMES.has(key) ? 'read-only' : 'custom' });
    }
    return labels;
  }
}
