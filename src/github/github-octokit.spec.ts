import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type { GithubConfig } from '../config/app-config.js';
import { DEFAULT_GITHUB_LIMITS } from '../config/github-config.loader.js';
import type { Metrics } from '../metrics/metrics.js';
import type { GithubBudget } from './github-budget.service.js';
import { createGithubOctokit } from './github-octokit.js';

/** What the test is not about: the rate-limit bookkeeping. */
const budget = { observe: async () => undefined } as unknown as GithubBudget;
const gauge = { set: () => undefined };
const metrics = { githubRateLimitRemaining: gauge, githubRateLimitReset: gauge } as unknown as Metrics;

const TIMEOUT_MS = 300;

describe('createGithubOctokit: each call to GitHub is bounded by GITHUB_REQUEST_TIMEOUT_MS', () => {
  let server: Server;
  let settings: GithubConfig;
  /** Resolves when GitHub's side of the stalled answer sees its connection closed. */
  let stalledClosed: Promise<void>;

  beforeAll(async () => {
    let closed: () => void = () => undefined;
    stalledClosed = new Promise((resolve) => (closed = resolve));
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      const json = { 'content-type': 'application/json; charset=utf-8' };
      if (req.method === 'POST' && req.url === '/app/installations/7/access_tokens') {
        res.writeHead(201, json).end(JSON.stringify({ token: 'ghs_test', expires_at: new Date(Date.now() + 3_600_000).toISOString() }));
      } else if (req.url === '/orgs/acme/actions/runners/1') {
        res.writeHead(200, json).end(JSON.stringify({ id: 1, name: 'one' }));
      } else if (req.url === '/orgs/acme/actions/runners/3') {
        res.writeHead(204).end();
      } else if (req.url === '/orgs/acme/actions/runners/2') {
        // The headers and half the body, then nothing: a connection that hangs mid-answer.
        res.writeHead(200, { ...json, 'content-length': '100' });
        res.write('{"id": 2, "na');
        res.on('close', closed);
      } else {
        res.writeHead(404, json).end('{"message":"Not Found"}');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    settings = {
      apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      appId: '1',
      installationId: 7,
      privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      org: 'acme',
      runnerGroupId: 1,
      systemLabels: [],
      requestTimeoutMs: TIMEOUT_MS,
      ...DEFAULT_GITHUB_LIMITS,
      simulated: false,
    };
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const octokit = () => createGithubOctokit(settings, { logger: new Logger('test'), budget, metrics });

  it('gives up on an answer whose body stops halfway, and closes the connection', async () => {
    const call = octokit().request('GET /orgs/{org}/actions/runners/{id}', { org: 'acme', id: 2 });

    // Octokit turns a body it could not read into empty data (or, for some failures, rejects): either
    // way the call ends, with no runner parsed out of half an answer.
    const outcome = await call.then(
      (response) => response.data as unknown,
      (error: Error) => error.name,
    );

    expect(outcome).toEqual(expect.any(String));
    await stalledClosed;
  });

  it('reads whole answers, with a body and without one, and the call after them', async () => {
    const client = octokit();

    const one = await client.request('GET /orgs/{org}/actions/runners/{id}', { org: 'acme', id: 1 });
    const none = await client.request('GET /orgs/{org}/actions/runners/{id}', { org: 'acme', id: 3 });
    const again = await client.request('GET /orgs/{org}/actions/runners/{id}', { org: 'acme', id: 1 });

    expect([one.status, one.data]).toEqual([200, { id: 1, name: 'one' }]);
    expect(none.status).toBe(204);
    expect(again.data).toEqual({ id: 1, name: 'one' });
  });
});
