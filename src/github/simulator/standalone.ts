import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GithubSimulator } from './github-simulator.js';

/**
 * `npm run simulator`: runs the GitHub simulator on its own and prints the environment the service
 * needs to talk to it. Printing is this file's job, so console.log is used here and nowhere else.
 */

const DEFAULT_PORT = 3001;

function readPort(): number {
  // A developer tool, not the service: src/config (the service's only env reader) does not cover it.
  const raw = process.env.SIMULATOR_PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SIMULATOR_PORT must be an integer from 0 to 65535, got "${raw}"`);
  }
  return port;
}

const simulator = await GithubSimulator.start({ port: readPort() });

// A fresh key pair per run, so the key file is as temporary as the simulator; mkdtemp makes the dir 0700.
const keyDir = mkdtempSync(join(tmpdir(), 'github-simulator-'));
const keyPath = join(keyDir, 'app-private-key.pem');
writeFileSync(keyPath, simulator.privateKeyPem, { mode: 0o600 });

console.log(`GitHub simulator listening on ${simulator.url}`);
console.log('Paste into the service environment (.env):');
console.log('');
console.log(`GITHUB_API_URL=${simulator.url}`);
console.log(`GITHUB_APP_ID=${simulator.appId}`);
console.log(`GITHUB_APP_INSTALLATION_ID=${simulator.installationId}`);
console.log(`GITHUB_APP_PRIVATE_KEY_PATH=${keyPath}`);
console.log(`GITHUB_ORG=${simulator.org}`);
console.log('');
console.log(`Control endpoints: ${simulator.url}/_simulator/ (runners, faults, requests, reset). Ctrl-C stops.`);

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received, stopping the simulator`);
  await simulator.stop();
  rmSync(keyDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, (received) => {
    shutdown(received).catch((error: unknown) => {
      console.error('Failed to stop the simulator cleanly', error);
      process.exitCode = 1;
    });
  });
}
