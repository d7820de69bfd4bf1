import { type OpenAPIObject, getSchemaPath } from '@nestjs/swagger';
import { ApiErrorResponseDto } from '../common/api-error-response.dto.js';
import { isUnlimitedPath } from './unlimited-paths.js';

const TOO_MANY_REQUESTS = '429';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

/**
 * Adds the 429 RATE_LIMITED answer to every operation a rate limit applies to (all but the unlimited
 * paths), beside the operation's other errors: a route added later is documented without knowing it.
 * The document must hold ApiErrorResponseDto (createDocument's extraModels).
 */
export function documentRateLimits(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    if (isUnlimitedPath(path)) continue;
    for (const method of HTTP_METHODS) {
      const operation = (item as Record<string, { responses?: Record<string, unknown> } | undefined>)[method];
      if (!operation) continue;
      operation.responses = {
        ...operation.responses,
        [TOO_MANY_REQUESTS]: {
          description:
            'RATE_LIMITED: too many requests a minute from your address (RATE_LIMIT_PER_IP_PER_MINUTE) or for your ' +
            'identity (RATE_LIMIT_PER_IDENTITY_PER_MINUTE); nothing was done. Retry after the seconds Retry-After gives',
          headers: {
            'Retry-After': { description: 'Whole seconds until the limit lets this caller in again', schema: { type: 'integer', minimum: 1 } },
          },
          content: { 'application/json': { schema: { $ref: getSchemaPath(ApiErrorResponseDto) } } },
        },
      };
    }
  }
}
