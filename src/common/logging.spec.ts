import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type LoggerOptions, type Logger } from 'pino';
import { pinoHttp, type Options as PinoHttpOptions } from 'pino-http';
import type { AppSettings } from '../config/app-config.js';
import { loggerParams, requestErrorFields } from './logging.js';

const SETTINGS: AppSettings = { port: 0, host: '127.0.0.1', logLevel: 'info', prettyLogs: false, demo: false, trustProxy: false, requestDeadlineMs: 15_000, shutdownDrainSeconds: 0 };

/** The pino options the app runs with (loggerParams may pair them with a destination). */
function appLoggerOptions(): LoggerOptions {
  const { pinoHttp: params } = loggerParams(SETTINGS);
  return (Array.isArray(params) ? params[0] : params) as LoggerOptions;
}

/** A logger as plain pino builds it and one as pino-http (behind nestjs-pino) builds it, each into a string. */
const LOGGERS: [string, (write: (line: string) => void) => Logger][] = [
  ['pino', (write) => pino(appLoggerOptions(), { write })],
  ['pino-http', (write) => pinoHttp(appLoggerOptions() as PinoHttpOptions, { write }).logger],
];

/** What an Octokit RequestError (or a careless wrapper of one) may carry along. */
function errorCarryingSecrets(): Error {
  return Object.assign(new Error('Bad credentials'), {
    status: 401,
    request: {
      method: 'POST',
      url: 'https://api.github.com/orgs/my-org/actions/runners/generate-jitconfig',
      headers: { authorization: 'token ghs_REQUEST_HEADER_SECRET' },
    },
    response: { status: 401, headers: {}, data: { token: 'ghs_RESPONSE_BODY_SECRET' } },
    config: { github: { privateKey: '-----BEGIN RSA PRIVATE KEY-----PRIVATE_KEY_SECRET' } },
  });
}

describe.each(LOGGERS)('the app logger through %s', (_name, build) => {
  let output: string;
  let logger: Logger;

  beforeEach(() => {
    output = '';
    logger = build((line) => (output += line));
  });

  it('logs an error with its type, message, stack and status, and none of what it carries', () => {
    logger.error({ err: errorCarryingSecrets(), request_id: 'req-1' }, 'Unhandled error');
    expect(output).not.toContain('REQUEST_HEADER_SECRET');
    expect(output).not.toContain('RESPONSE_BODY_SECRET');
    expect(output).not.toContain('PRIVATE_KEY_SECRET');
    const line = JSON.parse(output) as { err: Record<string, unknown>; request_id: string };
    expect(line.request_id).toBe('req-1');
    expect(line.err).toEqual({
      type: 'Error',
      message: 'Bad credentials',
      stack: expect.stringContaining('Bad credentials'),
      status: 401,
    });
  });

  it('keeps the code of a system error', () => {
    logger.error({ err: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }, 'failed');
    expect(JSON.parse(output).err).toMatchObject({ message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' });
  });

  it('redacts a JIT config, a token and an authorization header nested two levels deep', () => {
    logger.info(
      {
        result: { runner: { encoded_jit_config: 'JIT_CONFIG_SECRET' }, installation: { token: 'TOKEN_SECRET' } },
        upstream: { headers: { authorization: 'Bearer BEARER_SECRET' } },
      },
      'provisioned',
    );
    expect(output).not.toMatch(/JIT_CONFIG_SECRET|TOKEN_SECRET|BEARER_SECRET/);
    expect(JSON.parse(output)).toMatchObject({
      result: { runner: { encoded_jit_config: '[redacted]' }, installation: { token: '[redacted]' } },
      upstream: { headers: { authorization: '[redacted]' } },
    });
  });

  it('redacts a run command, which embeds the JIT config', () => {
    logger.info({ response: { run_command: './run.sh --jitconfig JIT_CONFIG_SECRET' } }, 'provisioned');
    expect(output).not.toContain('JIT_CONFIG_SECRET');
  });

  it('redacts a config.sh command, which embeds the registration token', () => {
    logger.info({ response: { configuration_command: './config.sh --url u --token REG_TOKEN_SECRET --name n' } }, 'provisioned');
    expect(output).not.toContain('REG_TOKEN_SECRET');
  });

  it('still logs a plain message', () => {
    logger.info('Runner Token Service listening');
    expect(JSON.parse(output)).toMatchObject({ level: 30, msg: 'Runner Token Service listening' });
  });
});

/** What a token's claims may carry into a log line: an ANSI escape, a newline, DEL, a C1 CSI and a bidi override. */
const HOSTILE = 'mallory\u001b[2J\u001b[31m\nFAKE LINE\u007f\u009b31m\u202egnp.exe\u2066x\u2069';

describe('control characters from callers', () => {
  it('are escaped in pretty output, in the message and in fields', () => {
    let output = '';
    const settings: AppSettings = { ...SETTINGS, prettyLogs: true };
    const { pinoHttp: params } = loggerParams(settings, { write: (line: string) => (output += line) });
    const [options, destination] = params as [LoggerOptions, DestinationStream];
    const logger = pino(options, destination);

    logger.info({ owner: HOSTILE, claims: { email: HOSTILE } }, `Provisioned JIT runner for ${HOSTILE}`);

    expect(output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(output.trimEnd().split('\n')).toHaveLength(1);
    expect(output).toContain('Provisioned JIT runner for mallory\\u001b[2J\\u001b[31m\\u000aFAKE LINE\\u007f\\u009b31m\\u202egnp.exe\\u2066x\\u2069');
  });

  it('reach JSON output escaped by JSON, and decode back to what was sent', () => {
    let output = '';
    const logger = pino(appLoggerOptions(), { write: (line: string) => (output += line) });
    logger.info({ claims: { email: HOSTILE } }, `Provisioned JIT runner for ${HOSTILE}`);
    // JSON escapes every C0 character; DEL, C1 and bidi characters are valid JSON as they are.
    expect(output.trimEnd()).not.toMatch(/[\u0000-\u001f]/);
    const line = JSON.parse(output) as { msg: string; claims: { email: string } };
    expect(line.msg).toBe(`Provisioned JIT runner for ${HOSTILE}`);
    expect(line.claims.email).toBe(HOSTILE);
  });
});

describe('requestErrorFields', () => {
  const request = {} as IncomingMessage;
  const response = { statusCode: 503 } as ServerResponse;

  it("drops pino-http's own error on a 5xx request line (the status says it), and keeps one the response carried", () => {
    const fields = { res: { status: 503 }, responseTime: 12 };
    const statusOnly = new Error('failed with status code 503');
    expect(requestErrorFields(request, response, statusOnly, { ...fields, err: statusOnly })).toEqual(fields);
    const real = new Error('socket hang up');
    expect(requestErrorFields(request, response, real, { ...fields, err: real })).toEqual({ ...fields, err: real });
  });
});
