import {
  HttpStatus,
  type INestApplication,
  Logger as NestLogger,
  RequestMethod,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { RequestDeadlineInterceptor } from './common/request-deadline.interceptor.js';
import { requestDeadline } from './common/request-deadline.js';
import { trackAnswerDelivery } from './common/answer-delivery.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import type { ErrorBody } from './common/http-errors.js';
import { requestIdOf } from './common/logging.js';
import { UntrustedInputPipe } from './common/untrusted-input.pipe.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { DomainError, ERROR_CODES } from './common/domain-error.js';
import { DatabaseOutage } from './database/database-outage.service.js';
import { httpMetrics } from './metrics/http-metrics.js';
import { Metrics } from './metrics/metrics.js';
import { METRICS_PATH } from './metrics/scrape-access.js';
import { WEBHOOK_BODY_PARSER_OPTIONS } from './webhooks/webhook-route.js';

import { API_PREFIX, PROBE_PATHS } from './common/api.js';
import { ApiErrorResponseDto } from './common/api-error-response.dto.js';
import { documentRateLimits } from './rate-limit/rate-limit.openapi.js';
export const DOCS_PATH = 'docs';

/** The violations, in the order the fields were checked (one per field: stopAtFirstError). */
function describeViolations(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...describeViolations(error.children ?? [], field)];
  });
}

function validationError(errors: ValidationError[]): DomainError {
  const violations = describeViolations(errors).map((violation) =>
    violation.message.startsWith('property ') && violation.message.endsWith(' should not exist')
      ? { field: violation.field, message: `${violation.field} is not a known field; remove it` }
      : violation,
  );
  const messages = [...new Set(violations.map((violation) => violation.message))];
  return new DomainError(ERROR_CODES.VALIDATION_FAILED, messages.join('; '), { violations });
}

/** application/json, or a JSON-based type such as application/merge-patch+json; parameters ignored. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/i;
const BODY_METHODS: readonly string[] = ['POST', 'PUT', 'PATCH'];
const NOT_JSON_MESSAGE = 'Send the body as JSON with Content-Type: application/json';

/** A body is coming: chunked, or a Content-Length above 0 (a POST with no body is fine). */
function hasBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}

/**
 * Answers 415 to a body that is not JSON. Without it, Express parses a form-encoded body (curl's default)
 * into nonsense fields and ignores a text/plain one, and the caller gets a 400 about fields they did send.
 * It runs before the body parsers and pino-http, so it names the request id itself and logs its own line.
 */
function requireJsonBodies(): (request: Request, response: Response, next: NextFunction) => void {
  const logger = new NestLogger('Http');
  return (request, response, next) => {
    const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim();
    if (!BODY_METHODS.includes(request.method) || !hasBody(request) || JSON_MEDIA_TYPE.test(mediaType)) {
      next();
      return;
    }
    const id = (request as Request & { id?: unknown }).id;
    const requestId = id !== undefined ? String(id) : requestIdOf(request, response);
    const path = request.originalUrl.split('?')[0];
    logger.log(
      { request_id: requestId, content_type: mediaType || null },
      `${request.method} ${path} ${HttpStatus.UNSUPPORTED_MEDIA_TYPE}`,
    );
    const body: ErrorBody = {
      error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: NOT_JSON_MESSAGE },
      request_id: requestId,
    };
    // The body is never read: end the connection after the answer rather than read and discard the rest.
    response.status(HttpStatus.UNSUPPORTED_MEDIA_TYPE).setHeader('Connection', 'close').json(body);
  };
}

/**
 * A response documented without a description (Nest leaves '' for `@ApiCreatedResponse({ type })`)
 * takes its schema's: OpenAPI requires one, and clients generated from it show it.
 */
function describeResponsesBySchema(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      const responses = (operation as { responses?: Record<string, Record<string, unknown>> }).responses;
      for (const response of Object.values(responses ?? {})) {
        if (response.description) continue;
        const content = response.content as Record<string, { schema?: { $ref?: string } }> | undefined;
        const ref = content?.['application/json']?.schema?.$ref;
        const schema = ref ? (schemas[ref.split('/').pop() as string] as { description?: string }) : undefined;
        if (schema?.description) response.description = schema.description;
      }
    }
  }
}

/** Where the app notices database outages; none in an app built without the database module (a unit test's few routes). */
function databaseOutageOf(app: INestApplication): DatabaseOutage | undefined {
  try {
    return app.get(DatabaseOutage);
  } catch {
    return undefined;
  }
}

/** Everything main.ts and the tests set on the app, in one place, so tests run what production runs. */
export function configureApp(app: INestApplication): INestApplication {
  app.useLogger(app.get(Logger));
  const config = app.get<AppConfig>(APP_CONFIG);
  const express = app.getHttpAdapter().getInstance();
  // The audit trail's source IP: the client's address as the trusted proxies report it.
  express.set('trust proxy', config.app.trustProxy);
  // Express's ETag is a hash of the body, a JIT config's included; these answers are not for caching.
  express.set('etag', false);
  // Nothing to gain from announcing the framework.
  express.disable('x-powered-by');
  // First: the budget counts from the moment the request arrives.
  app.use(requestDeadline(config.app.requestDeadlineMs));
  app.useGlobalInterceptors(new RequestDeadlineInterceptor());
  app.use(httpMetrics(app.get(Metrics)));
  // A JIT config counts as handed out only once its answer has gone out (see whenAnswerDelivered).
  app.use(trackAnswerDelivery());
  // Before the body parsers, so a body that is not JSON is refused unread.
  app.use(`/${API_PREFIX}`, requireJsonBodies());
  // Webhook deliveries (only when GITHUB_WEBHOOK_SECRET is set, else the route does not exist): their
  // raw bytes, for the signature, up to 1 MiB; the JSON parser then leaves them alone.
  if (config.github.webhookSecret !== undefined) {
    (app as NestExpressApplication).useBodyParser('raw', WEBHOOK_BODY_PARSER_OPTIONS);
  }
  // The JSON parser also takes application/*+json, which the 415 check lets through.
  (app as NestExpressApplication).useBodyParser('json', { type: ['application/json', 'application/*+json'] });
  // The probes are unversioned: a load balancer's or the kubelet's configuration outlives API versions.
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [...PROBE_PATHS, METRICS_PATH].map((path) => ({ path, method: RequestMethod.GET })),
  });
  app.useGlobalPipes(
    // First: what would crash the validator or the database never reaches them.
    new UntrustedInputPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // One message per field: the first rule it breaks.
      stopAtFirstError: true,
      exceptionFactory: validationError,
    }),
  );
  app.useGlobalFilters(new AllExceptionsFilter(databaseOutageOf(app)));
  // Nest's shutdown hooks (onModuleDestroy… onApplicationShutdown) run from app.close(), which
  // main.ts calls after draining (gracefulShutdown); Nest's own signal handling is not used: its
  // default list includes SIGHUP, which reloads the access policy here.

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Runner Token Service')
      .setDescription(
        'Hands out GitHub Actions self-hosted runner credentials (JIT configs) to callers that prove who ' +
          'they are with an OIDC bearer token. Errors share one shape: `{ "error": { "code", "message", "details"? }, "request_id" }`. ' +
          'Request bodies are JSON (`Content-Type: application/json`); any other body is answered 415 UNSUPPORTED_MEDIA_TYPE. ' +
          'Past a rate limit (per client address, per identity) the answer is 429 RATE_LIMITED with Retry-After.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An OIDC token (JWT)' })
      .build(),
    { extraModels: [ApiErrorResponseDto] },
  );
  describeResponsesBySchema(document);
  documentRateLimits(document);
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}/openapi.json` });
  return app;
}
