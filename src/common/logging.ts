import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stdSerializers, type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { Params } from 'nestjs-pino';
import type { AppSettings } from '../config/app-config.js';
import { METRICS_PATH, PROBE_PATHS } from './api.js';

/**
 * Paths pino replaces with "[redacted]": credentials in headers, and every field a credential may
 * travel in, should one ever reach a log call by mistake. A `*` matches one level only, hence the
 * `*.*.` paths for objects nested one level further.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.headers.authorization',
  '*.*.authorization',
  '*.encoded_jit_config',
  '*.*.encoded_jit_config',
  '*.encodedJitConfig',
  '*.*.encodedJitConfig',
  // The run command embeds the JIT config.
  '*.run_command',
  '*.*.run_command',
  'run_command',
  // The config.sh command embeds the registration token.
  '*.configuration_command',
  '*.*.configuration_command',
  'configuration_command',
  '*.registration_token',
  '*.*.registration_token',
  '*.token',
  '*.*.token',
  '*.privateKey',
  '*.*.privateKey',
  '*.webhookSecret',
  '*.*.webhookSecret',
  '*.private_key',
  '*.*.private_key',
  'encoded_jit_config',
  'registration_token',
  'token',
];

/**
 * An error as a log line shows it: what it is, what it says (with its causes) and where it came from.
 * Nothing else, so what an error object carries along (Octokit's request with its authorization header,
 * the response with a token in its body, a config object) never reaches the log, however deep it sits.
 */
export function serializeError(error: unknown): unknown {
  // pino-http hands this pino's own serialization of the error; plain pino hands it the error itself.
  const serialized: unknown = error instanceof Error ? stdSerializers.err(error) : error;
  if (typeof serialized !== 'object' || serialized === null) return serialized;
  const { type, message, stack, code, status } = serialized as Record<string, unknown>;
  return {
    type,
    message,
    stack,
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    ...(typeof status === 'number' && { status }),
  };
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when it is a sane token, else a new UUID; echoed on the response. */
export function requestIdOf(request: IncomingMessage, response: ServerResponse): string {
  const header = request.headers['x-request-id'];
  const given = Array.isArray(header) ? header[0] : header;
  const id = given && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
  response.setHeader('x-request-id', id);
  return id;
}

/**
 * The path a caller asked for, without the query. Express rewrites `url` under a mounted prefix;
 * `originalUrl` keeps /api/v1.
 */
function pathOf(request: IncomingMessage & { originalUrl?: string }): string {
  return (request.originalUrl ?? request.url ?? '').split('?')[0];
}

const requestLine = (req: IncomingMessage, res: ServerResponse) => `${req.method} ${pathOf(req)} ${res.statusCode}`;

/**
 * pino-http puts an error of its own ("failed with status code 503", with a stack of pino-http's
 * internals) on every 5xx request line: the line's status says it already. An error the response
 * really carried is kept.
 */
export function requestErrorFields(
  _req: IncomingMessage,
  res: ServerResponse,
  error: Error,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  if (error.message !== `failed with status code ${res.statusCode}`) return fields;
  const { err: _statusOnly, ...rest } = fields;
  return rest;
}

/** Probes and scrapes arrive every few seconds; a line for each would drown the log. */
const PROBE_REQUEST_PATHS = new Set([...PROBE_PATHS, METRICS_PATH].map((path) => `/${path}`));

/** C0 (tab and newline included), DEL, C1, and the bidi embeddings, overrides and isolates. */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The text with each control or bidi character written as \uXXXX, so a terminal shows it instead of obeying it. */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function escapeStrings(value: unknown): unknown {
  if (typeof value === 'string') return escapeControlCharacters(value);
  if (Array.isArray(value)) return value.map(escapeStrings);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [escapeControlCharacters(key), escapeStrings(field)]),
  );
}

const PRETTY_OPTIONS = { singleLine: true, ignore: 'pid,hostname,req,res' };

/**
 * Readable lines for people, written in this thread: each JSON line is parsed, every string in it
 * escaped (claims reach log lines, and a terminal would obey their escape sequences), then
 * prettified. To standard output with colours where supported, or to `write` without them.
 */
export function prettyDestination(write?: (text: string) => unknown): DestinationStream {
  const prettify = prettyFactory(write ? { ...PRETTY_OPTIONS, colorize: false } : PRETTY_OPTIONS);
  const out = write ?? ((text: string) => process.stdout.write(text));
  return { write: (line: string) => void out(prettify(escapeStrings(JSON.parse(line)))) };
}

/**
 * nestjs-pino settings: JSON lines (pretty in development, with control characters escaped), a
 * request id on every line, redaction.
 */
export function loggerParams(settings: AppSettings, destination?: DestinationStream): Params {
  const options = {
    level: settings.logLevel,
    genReqId: requestIdOf,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Request lines carry method, path and id; never bodies or query strings with secrets.
    serializers: {
      req: (req: { id: unknown; method: string; raw: IncomingMessage }) => ({
        id: req.id,
        method: req.method,
        path: pathOf(req.raw),
      }),
      res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      err: serializeError,
    },
    customProps: (req: IncomingMessage & { id?: unknown }) => ({ request_id: req.id }),
    customSuccessMessage: requestLine,
    customErrorMessage: requestLine,
    customErrorObject: requestErrorFields,
    autoLogging: { ignore: (req: IncomingMessage) => PROBE_REQUEST_PATHS.has(pathOf(req)) },
  };
  const out = settings.prettyLogs ? prettyDestination(destination && ((text) => destination.write(text))) : destination;
  return { pinoHttp: out ? [options, out] : options };
}
