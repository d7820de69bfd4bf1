/**
 * The search behind every "no secret was logged or stored" test: the credentials a flow handled
 * (GitHub's, as the simulator issued them; the App key; the callers' bearer tokens), looked for in
 * every log line and in a dump of every table.
 */
import type { IssuedCredentials } from '../../src/github/simulator/github-simulator.js';

/** A secret to look for, and what it is (for the failure message, never the value itself). */
export interface Secret {
  kind: string;
  value: string;
}

/** Where to look: a name for the failure message, and the text. */
export interface Haystack {
  where: string;
  text: string;
}

/**
 * A secret longer than this is also looked for in pieces of this length, one every FRAGMENT_STEP
 * characters: a copy of any FRAGMENT_LENGTH + FRAGMENT_STEP - 1 characters of it contains one.
 */
const FRAGMENT_LENGTH = 32;
const FRAGMENT_STEP = 16;

/** Runs one SQL query and returns its rows (a DataSource, or a short-lived connection to a database). */
export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** Every row of every table in the service's schema (the migrations table too), one haystack per table. */
export async function dumpEveryTable(query: Query): Promise<Haystack[]> {
  const tables = await query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const dumps: Haystack[] = [];
  for (const { table_name: table } of tables) {
    const rows = await query(`SELECT * FROM "${String(table)}"`);
    dumps.push({ where: `table ${String(table)}`, text: JSON.stringify(rows) });
  }
  return dumps;
}

/** Log lines as haystacks, named by their source and position. */
export function logHaystacks(source: string, lines: readonly string[]): Haystack[] {
  return lines.map((text, index) => ({ where: `${source} line ${index + 1}`, text }));
}

/** Every credential the simulator issued, the App's private key, and the bearer tokens given. */
export function secretsOf(issued: IssuedCredentials, privateKeyPem: string, bearerTokens: readonly string[]): Secret[] {
  const keyLines = privateKeyPem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  return [
    ...issued.installationTokens.map((value) => ({ kind: 'installation token', value })),
    ...issued.registrationTokens.map((value) => ({ kind: 'registration token', value })),
    ...issued.jitConfigs.map((value) => ({ kind: 'JIT config', value })),
    ...keyLines.map((value) => ({ kind: 'App private key', value })),
    ...bearerTokens.map((value) => ({ kind: 'bearer token', value })),
    // The signature is the part of a JWT that nobody else can make: looked for on its own too.
    ...bearerTokens.map((value) => ({ kind: 'bearer token signature', value: value.split('.')[2] ?? value })),
  ];
}

/**
 * Where each secret (or a piece of a long one) appears: "JIT config #3 in table runners". Empty
 * when none does. The secret itself is never part of the answer, so a failing test prints none.
 */
export function findSecrets(haystacks: readonly Haystack[], secrets: readonly Secret[]): string[] {
  const found: string[] = [];
  secrets.forEach((secret, index) => {
    const needles = piecesOf(secret.value);
    for (const haystack of haystacks) {
      if (needles.some((needle) => haystack.text.includes(needle))) found.push(`${secret.kind} #${index + 1} in ${haystack.where}`);
    }
  });
  return found;
}

function piecesOf(value: string): string[] {
  if (value.length <= FRAGMENT_LENGTH) return [value];
  const pieces: string[] = [];
  for (let start = 0; start + FRAGMENT_LENGTH <= value.length; start += FRAGMENT_STEP) pieces.push(value.slice(start, start + FRAGMENT_LENGTH));
  pieces.push(value.slice(-FRAGMENT_LENGTH));
  return pieces;
}
