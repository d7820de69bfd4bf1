import { type INestApplication, RequestMethod, ValidationPipe, type ValidationError } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { DomainError, ERROR_CODES } from './common/domain-error.js';

export const API_PREFIX = 'api/v1';
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

/** Everything main.ts and the tests set on the app, in one place, so tests run what production runs. */
export function configureApp(app: INestApplication): INestApplication {
  app.useLogger(app.get(Logger));
  // Express's ETag is a hash of the body, a JIT config's included; these answers are not for caching.
  const config = app.get<AppConfig>(APP_CONFIG);
  const express = app.getHttpAdapter().getInstance();
  // The audit trail's source IP: the client's address as the trusted proxies report it.
  express.set('trust proxy', config.app.trustProxy);
  express.set('etag', false);
  // Nothing to gain from announcing the framework.
  express.disable('x-powered-by');
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [{ path: 'health', method: RequestMethod.GET }],
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // One message per field: the first rule it breaks.
      stopAtFirstError: true,
      exceptionFactory: validationError,
    }),
  );
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Runner Token Service')
      .setDescription(
        'Hands out GitHub Actions self-hosted runner credentials (JIT configs) to callers that prove who ' +
          'they are with an OIDC bearer token. Errors share one shape: `{ "error": { "code", "message", "details"? }, "request_id" }`.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An OIDC token (JWT)' })
      .build(),
  );
  describeResponsesBySchema(document);
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}/openapi.json` });
  return app;
}
