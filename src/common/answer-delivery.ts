import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';

/**
 * Whether the answer to an HTTP request reached the network: a credential written to the database
 * before its answer is sent may never reach its caller (the process dies in between, the request's
 * deadline answers 504 first, the caller hangs up), and what learns of it afterwards must tell.
 */
const answers = new AsyncLocalStorage<Response>();

/** Express middleware: the request, and everything it starts, knows its response. */
export function trackAnswerDelivery() {
  return (_request: Request, response: Response, next: NextFunction): void => {
    answers.run(response, next);
  };
}

/**
 * Calls `delivered` once the answer the current request is about to send has been handed to the
 * network whole with a success status; never when another answer went out first (a 504), an error
 * replaced it, or the connection closed before it was sent. Outside an HTTP request (nothing is
 * sent) it calls `delivered` at once.
 */
export function whenAnswerDelivered(delivered: () => void): void {
  const response = answers.getStore();
  if (response === undefined) {
    delivered();
    return;
  }
  if (response.headersSent || response.destroyed) return;
  response.once('finish', () => {
    if (response.statusCode < 400) delivered();
  });
}
