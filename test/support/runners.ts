/**
 * Runner rows made directly in the database, for tests about many runners (a sync over several
 * pages, cleanup of old runners) where provisioning each one over HTTP would only add time.
 */
import type { DataSource } from 'typeorm';

export interface RunnerRowSpec {
  name: string;
  kind?: 'jit' | 'registration_token';
  status?: 'pending' | 'active' | 'offline' | 'deleted' | 'failed';
  busy?: boolean;
  githubRunnerId?: number | null;
  ownerSubject?: string;
  ownerName?: string;
  labels?: string[];
  /** How long ago it was created, in hours (default: now). */
  createdHoursAgo?: number;
  /** How long ago it was last seen online, in hours (default: never). */
  lastSeenHoursAgo?: number | null;
}

/**
 * Inserts the rows in one statement and returns their ids, in order. Each row's credential was
 * handed out (expires_at an hour after creation), except a JIT row without a GitHub id: its request
 * never heard from GitHub.
 */
export async function insertRunners(dataSource: DataSource, specs: RunnerRowSpec[]): Promise<string[]> {
  const column = <T>(pick: (spec: RunnerRowSpec) => T) => specs.map(pick);
  const rows: { id: string }[] = await dataSource.query(
    `INSERT INTO runners (name, kind, status, busy, ephemeral, labels, runner_group_id, github_runner_id,
                          owner_issuer, owner_subject, owner_name, created_at, last_seen_at, expires_at)
     SELECT spec.name, spec.kind, spec.status, spec.busy, true, string_to_array(spec.labels, ','), 1, spec.github_runner_id,
            'https://issuer.test', spec.owner_subject, spec.owner_name,
            now() - make_interval(secs => spec.created_hours_ago * 3600),
            now() - make_interval(secs => spec.last_seen_hours_ago * 3600),
            CASE WHEN spec.kind = 'jit' AND spec.github_runner_id IS NULL THEN NULL
                 ELSE now() - make_interval(secs => (spec.created_hours_ago - 1) * 3600) END
       FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::bool[], $5::text[], $6::bigint[], $7::text[], $8::text[],
                   $9::float8[], $10::float8[])
            WITH ORDINALITY AS spec(name, kind, status, busy, labels, github_runner_id, owner_subject, owner_name,
                                    created_hours_ago, last_seen_hours_ago, position)
      ORDER BY spec.position
     RETURNING id`,
    [
      column((spec) => spec.name),
      column((spec) => spec.kind ?? 'jit'),
      column((spec) => spec.status ?? 'pending'),
      column((spec) => spec.busy ?? false),
      column((spec) => (spec.labels ?? ['self-hosted', 'linux', 'x64']).join(',')),
      column((spec) => spec.githubRunnerId ?? null),
      column((spec) => spec.ownerSubject ?? 'ops-sub'),
      column((spec) => spec.ownerName ?? 'ops@example.com'),
      column((spec) => spec.createdHoursAgo ?? 0),
      column((spec) => spec.lastSeenHoursAgo ?? null),
    ],
  );
  return rows.map((row) => row.id);
}

export interface StoredRunner {
  id: string;
  name: string;
  status: string;
  busy: boolean;
  github_runner_id: number | null;
  last_seen_at: Date | null;
}

/** Every runner row, by name. */
export async function runnersByName(dataSource: DataSource): Promise<Map<string, StoredRunner>> {
  const rows: StoredRunner[] = await dataSource.query(
    `SELECT id, name, status, busy, github_runner_id::float8 AS github_runner_id, last_seen_at FROM runners`,
  );
  return new Map(rows.map((row) => [row.name, row]));
}

/**
 * Waits (up to about 5 s) until a JIT runner's 201 is recorded as handed out: its expires_at is
 * written just after the answer has gone out, so a test that reads or changes the row right after
 * the 201 would race that write.
 */
export async function untilHandedOut(dataSource: DataSource, runnerId: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const [row]: { expires_at: Date | null }[] = await dataSource.query('SELECT expires_at FROM runners WHERE id = $1', [runnerId]);
    if (row?.expires_at) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Runner ${runnerId} was never recorded as handed out`);
}
