/** A runner as GitHub describes it (the fields this service reads). */
export interface GithubRunner {
  id: number;
  name: string;
  os: string;
  /** `online` or `offline` (a free string on GitHub's side). */
  status: string;
  busy: boolean;
  ephemeral?: boolean;
  runner_group_id?: number;
  labels: { id?: number; name: string; type?: string }[];
}

export interface JitConfigRequest {
  name: string;
  runnerGroupId: number;
  labels: string[];
  workFolder: string;
}

export interface JitConfig {
  runner: GithubRunner;
  /** A secret: it carries the runner's private key. Never log or store it. */
  encodedJitConfig: string;
}

export interface RegistrationToken {
  /** A secret: it registers any number of runners for an hour. Never log or store it. */
  token: string;
  expiresAt: Date;
}

/** An org runner group (the fields this service reads). */
export interface GithubRunnerGroup {
  id: number;
  name: string;
  default: boolean;
}
