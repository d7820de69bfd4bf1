import type { Socket } from 'node:net';
import pg from 'pg';

/** What pg answers a query that got no reply within query_timeout. */
const READ_TIMEOUT_MESSAGE = 'Query read timeout';

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

/** Closes the client's connection when `error` is a read timeout, so the pool drops it (pg-pool does the same on a connect timeout). */
function closeOnReadTimeout(client: pg.Client, error: unknown): void {
  if ((error as Error | undefined)?.message !== READ_TIMEOUT_MESSAGE) return;
  (client as unknown as { connection?: { stream?: Socket } }).connection?.stream?.destroy();
}

/**
 * pg's Client, except that a query the server did not answer within query_timeout closes its
 * connection. pg gives up on the query but keeps the connection waiting for the lost answer, and
 * the pool hands it out again: on a link that drops packets, every later query on it would wait
 * out its own timeout, for as long as the process runs.
 */
export class ReadTimeoutClosingClient extends pg.Client {}

const query = pg.Client.prototype.query as unknown as Query;

(ReadTimeoutClosingClient.prototype as unknown as { query: Query }).query = function (this: pg.Client, ...args: unknown[]) {
  const callback = args.at(-1);
  if (typeof callback === 'function') {
    args[args.length - 1] = (error: unknown, ...rest: unknown[]) => {
      closeOnReadTimeout(this, error);
      return callback(error, ...rest);
    };
  }
  const result = query.apply(this, args);
  if (result instanceof Promise) result.catch((error: unknown) => closeOnReadTimeout(this, error));
  return result;
};
