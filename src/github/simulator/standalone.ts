import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GithubSimulator } from './github-simulator.js';

/**
 * `npm run simulator [-- --port N]`: runs the GitHub simulator on its own and prints the settings the
 * service needs to talk to it. A developer tool, not the service: it takes its port from the command
 * line, and printing to the terminal is its job.
 */

const DEFAULT_PORT = 3001;

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function readPort(argv: string[]): number {
  const index = argv.indexOf('--port');
  if (index === -1) return DEFAULT_PORT;
  const raw = argv[index + 1] ?? '';
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a whole number from 0 to 65535, got "${raw}"\n`);
    process.exit(2);
  }
  return port;
}

const simulator = await GithubSimulator.start({ port: readPort(process.argv.slice(2)) });

// A fresh key pair per run, so the key file is as temporary as the simulator; mkdtemp makes the dir 0700.
const keyDir = mkdtempSync(join(tmpdir(), 'github-simulator-'));
const keyPath = join(keyDir, 'app-private-key.pem');
writeFileSync(keyPath, simulator.privateKeyPem, { mode: 0o600 });

say(`GitHub simulator listening on ${simulator.url}`);
say('Paste into the service environment (.env):');
say();
say(`GITHUB_API_URL=${simulator.url}`);
say(`GITHUB_APP_ID=${simulator.appId}`);
say(`GITHUB_APP_INSTALLATION_ID=${simulator.installationId}`);
say(`GITHUB_APP_PRIVATE_KEY_PATH=${keyPath}`);
say(`GITHUB_ORG=${simulator.org}`);
say();
say(`Control endpoints: ${simulator.url}/_simulator/ (runners, faults, requests, reset). Ctrl-C stops.`);

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`${signal} received, stopping the simulator`);
  await simulator.stop();
  rmSync(keyDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, (received) => {
    shutdown(received).catch((error: unknown) => {
      process.stderr.write(`Failed to stop the simulator cleanly: ${(error as Error)?.message ?? String(error)}\n`);
      process.exitCode = 1;
    });
  });
}
