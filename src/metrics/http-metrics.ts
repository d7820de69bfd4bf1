import type { NextFunction, Request, Response } from 'express';
import type { Metrics } from './metrics.js';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/**
 * A request no route took (404s, bodies refused before routing, the API's catch-all 404 route):
 * one series, whatever the path.
 */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every request into rts_http_request_duration_seconds, labelled by the route template that
 * answered it (`/api/v1/runners/:id`), never the path itself: ids and names would make a series each.
 */
export function httpMetrics(metrics: Metrics): (request: Request, response: Response, next: NextFunction) => void {
  return (request, response, next) => {
    const started = performance.now();
    response.once('finish', () => {
      const template = (request.route as { path?: unknown } | undefined)?.path;
      const routed = typeof template === 'string' && !template.includes('*');
      metrics.httpRequestDuration.observe(
        {
          route: routed ? `${request.baseUrl}${template}` : UNMATCHED_ROUTE,
          method: KNOWN_METHODS.has(request.method) ? request.method : 'OTHER',
          status: String(response.statusCode),
        },
        (performance.now() - started) / 1000,
      );
    });
    next();
  };
}
