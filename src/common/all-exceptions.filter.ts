import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '../database/database-errors.js';
import { DATABASE_RETRY_AFTER_SECONDS, type DatabaseOutage } from '../database/database-outage.service.js';
import { DomainError, ERROR_CODES } from './domain-error.js';
import { HTTP_STATUS_BY_CODE, type ErrorBody } from './http-errors.js';
import { requestIdOf } from './logging.js';

/** Codes for errors Nest or Express raise before our code runs (unknown route, bad JSON, …). */
const CODE_BY_HTTP_STATUS: Record<number, string> = {
  [HttpStatus.BAD_REQUEST]: ERROR_CODES.VALIDATION_FAILED,
  [HttpStatus.UNAUTHORIZED]: ERROR_CODES.UNAUTHENTICATED,
  [HttpStatus.FORBIDDEN]: ERROR_CODES.FORBIDDEN,
  [HttpStatus.NOT_FOUND]: 'NOT_FOUND',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'METHOD_NOT_ALLOWED',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'UNSUPPORTED_MEDIA_TYPE',
};

/** What a caller is told while the database cannot be reached: no address, no driver text. */
function databaseUnavailable(): DomainError {
  return new DomainError(
    ERROR_CODES.DATABASE_UNAVAILABLE,
    `The service cannot reach its database; try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds`,
    { retry_after_seconds: DATABASE_RETRY_AFTER_SECONDS },
  );
}

/**
 * Maps every error to `{ error: { code, message, details? }, request_id }`. Domain errors by their code;
 * HTTP exceptions keep their status (a body already in our shape is passed through); a database out
 * of reach is 503 DATABASE_UNAVAILABLE with Retry-After, logged once per outage by `outage` (each
 * request at debug); anything else is logged with the request id and answered 500 with that id and
 * nothing more.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  /** `outage`: where a database outage is noticed; without it, each refusal is logged at warn. */
  constructor(private readonly outage?: DatabaseOutage) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request & { id?: string }>();
    const response = http.getResponse<Response>();
    // Express's body parser fails before pino-http has given the request its id: give it one here.
    const requestId =
      request.id !== undefined ? String(request.id) : response.headersSent ? null : requestIdOf(request, response);
    const unavailable = !(thrown instanceof DomainError) && !(thrown instanceof HttpException) && isDatabaseUnavailable(thrown);
    const exception = unavailable ? databaseUnavailable() : thrown;
    const { status, body } = this.describe(exception, requestId);
    if (unavailable) {
      this.noticeOutage(thrown, requestId, request);
    } else if (status >= 500 && !(exception instanceof DomainError)) {
      this.logger.error(
        { err: exception, request_id: requestId },
        `Unhandled error on ${request.method} ${request.path}`,
      );
    }
    // Once a response has started, its headers and status can no longer change (setHeader would
    // throw): end it, so the client is not left waiting.
    if (response.headersSent) {
      response.end();
      return;
    }
    const retryAfter = exception instanceof DomainError ? exception.details?.retry_after_seconds : undefined;
    if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    response.status(status).json(body);
  }

  private noticeOutage(error: unknown, requestId: string | null, request: Request): void {
    if (this.outage) {
      this.outage.noticeRefusal(error, requestId);
      return;
    }
    this.logger.warn({ request_id: requestId }, `Database unavailable on ${request.method} ${request.path}: ${(error as Error).message}`);
  }

  private describe(exception: unknown, requestId: string | null): { status: number; body: ErrorBody } {
    if (exception instanceof DomainError) {
      return {
        status: HTTP_STATUS_BY_CODE[exception.code] ?? HttpStatus.INTERNAL_SERVER_ERROR,
        body: {
          error: {
            code: exception.code,
            message: exception.message,
            ...(exception.details && { details: exception.details }),
          },
          request_id: requestId,
        },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      if (typeof payload === 'object' && payload !== null && 'error' in payload && isErrorShape(payload.error)) {
        return { status, body: { ...(payload as ErrorBody), request_id: requestId } };
      }
      const code = CODE_BY_HTTP_STATUS[status] ?? (status >= 500 ? ERROR_CODES.INTERNAL : 'HTTP_ERROR');
      return { status, body: { error: { code, message: messageOf(exception, payload) }, request_id: requestId } };
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: {
        error: { code: ERROR_CODES.INTERNAL, message: 'Internal error; quote the request id when reporting it' },
        request_id: requestId,
      },
    };
  }
}

function isErrorShape(value: unknown): value is { code: string; message: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

function messageOf(exception: HttpException, payload: string | object): string {
  // Express's JSON parser reports a malformed body as a 400 with type entity.parse.failed.
  if (exception.getStatus() === HttpStatus.BAD_REQUEST && /JSON/i.test(exception.message)) {
    return 'The request body is not valid JSON';
  }
  if (typeof payload === 'object' && payload !== null && 'message' in payload) {
    const message = (payload as { message: unknown }).message;
    if (typeof message === 'string') return message;
    if (Array.isArray(message)) return message.join('; ');
  }
  return exception.message;
}
