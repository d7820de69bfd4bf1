import { applyDecorators } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiGatewayTimeoutResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { ApiErrorResponseDto } from './api-error-response.dto.js';

/** What 503 DATABASE_UNAVAILABLE means, for every operation's documentation. */
const DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE: the service cannot reach its database; try again after Retry-After seconds';

/** The answer of every operation when the database is out of reach (OpenAPI); on a controller, for all its operations. */
export function ApiDatabaseUnavailable(): ClassDecorator & MethodDecorator {
  return ApiServiceUnavailableResponse({ description: DATABASE_UNAVAILABLE, type: ApiErrorResponseDto });
}

/** The answers of every operation that calls GitHub when GitHub fails (OpenAPI). */
export function ApiGithubErrors(): MethodDecorator {
  return applyDecorators(
    ApiBadGatewayResponse({
      description: 'GITHUB_UNAVAILABLE, GITHUB_PERMISSION_DENIED or GITHUB_REJECTED: GitHub failed or refused',
      type: ApiErrorResponseDto,
    }),
    ApiServiceUnavailableResponse({
      description:
        "GITHUB_RATE_LIMITED: GitHub's rate limit says wait, or this service's limit of JIT configs a minute is reached; " +
        `nothing was sent to GitHub; retry after Retry-After seconds; ${DATABASE_UNAVAILABLE}`,
      type: ApiErrorResponseDto,
    }),
    ApiGatewayTimeoutResponse({
      description:
        'GITHUB_TIMEOUT: GitHub did not answer in time; REQUEST_DEADLINE_EXCEEDED: the request ran out of its whole ' +
        'budget (REQUEST_DEADLINE_MS), possibly waiting for its turn to call GitHub, and what it started finishes in the background',
      type: ApiErrorResponseDto,
    }),
  );
}
