import type { IncomingMessage } from 'node:http';
import { API_PREFIX } from '../common/api.js';

export const WEBHOOKS_ROUTE = 'webhooks';
export const GITHUB_WEBHOOK_ROUTE = 'github';
/** Where GitHub delivers: POST /api/v1/webhooks/github. */
export const GITHUB_WEBHOOK_PATH = `/${API_PREFIX}/${WEBHOOKS_ROUTE}/${GITHUB_WEBHOOK_ROUTE}`;
/** Bodies over 1 MiB are refused (413) before anything else reads them. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

/**
 * Whether a request is a delivery to the webhook route, as Express routes it (any case, one
 * trailing slash): its body must reach the handler as raw bytes, for the signature.
 */
export function isWebhookDelivery(request: IncomingMessage & { path?: string }): boolean {
  const path = (request.path ?? request.url ?? '').split('?')[0].toLowerCase().replace(/\/$/, '');
  return request.method === 'POST' && path === GITHUB_WEBHOOK_PATH;
}

/**
 * The body parser of webhook deliveries: the raw bytes (the signature is over them), at most 1 MiB,
 * and no Content-Encoding (GitHub sends none; inflating would let a small body expand before the
 * signature is checked). Registered before the JSON parser, which then leaves the request alone.
 */
export const WEBHOOK_BODY_PARSER_OPTIONS = {
  type: isWebhookDelivery,
  limit: MAX_WEBHOOK_BODY_BYTES,
  inflate: false,
};
