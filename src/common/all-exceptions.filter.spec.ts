import { jest } from '@jest/globals';
import type { ArgumentsHost } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import type { DatabaseOutage } from '../database/database-outage.service.js';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { DomainError, ERROR_CODES } from './domain-error.js';

/** An Express-like response that, like Node's, throws on setHeader once the headers were sent. */
function fakeResponse(headersSent: boolean) {
  const response = {
    headersSent,
    headers: {} as Record<string, string>,
    statusCode: 0,
    body: undefined as unknown,
    ended: false,
    setHeader(name: string, value: string) {
      if (response.headersSent) throw Object.assign(new Error('Cannot set headers'), { code: 'ERR_HTTP_HEADERS_SENT' });
      response.headers[name] = value;
    },
    status(code: number) {
      response.statusCode = code;
      return response;
    },
    json(body: unknown) {
      response.body = body;
      response.headersSent = true;
    },
    end() {
      response.ended = true;
    },
  };
  return response;
}

function hostFor(response: ReturnType<typeof fakeResponse>): ArgumentsHost {
  const request = { id: 'req-1', method: 'POST', path: '/api/v1/runners/jit' };
  return {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ArgumentsHost;
}

const rateLimited = () =>
  new DomainError(ERROR_CODES.GITHUB_RATE_LIMITED, 'GitHub rate limit reached', { retry_after_seconds: 42 });

describe('AllExceptionsFilter', () => {
  it('answers a rate limit with Retry-After and the error body', () => {
    const response = fakeResponse(false);
    new AllExceptionsFilter().catch(rateLimited(), hostFor(response));
    expect(response.headers).toEqual({ 'Retry-After': '42' });
    expect(response.body).toMatchObject({ error: { code: 'GITHUB_RATE_LIMITED' }, request_id: 'req-1' });
  });

  it('ends a response whose headers were already sent, without throwing or writing a body', () => {
    const response = fakeResponse(true);
    expect(() => new AllExceptionsFilter().catch(rateLimited(), hostFor(response))).not.toThrow();
    expect(response.headers).toEqual({});
    expect(response.body).toBeUndefined();
    expect(response.ended).toBe(true);
  });

  it('answers a database out of reach 503 DATABASE_UNAVAILABLE with Retry-After, tells the outage, and logs no error', () => {
    const response = fakeResponse(false);
    const noticed: (string | null)[] = [];
    const outage = { noticeRefusal: (_error: unknown, requestId: string | null) => noticed.push(requestId) } as unknown as DatabaseOutage;
    const filter = new AllExceptionsFilter(outage);
    const logError = jest.spyOn(filter['logger'], 'error');
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });

    filter.catch(new QueryFailedError('SELECT 1', [], refused), hostFor(response));

    expect(response.statusCode).toBe(503);
    expect(response.headers).toEqual({ 'Retry-After': '5' });
    expect(response.body).toEqual({
      error: {
        code: 'DATABASE_UNAVAILABLE',
        message: 'The service cannot reach its database; try again in 5 seconds',
        details: { retry_after_seconds: 5 },
      },
      request_id: 'req-1',
    });
    expect(noticed).toEqual(['req-1']);
    expect(logError).not.toHaveBeenCalled();
  });

  it('still answers a database error that is not about reaching it 500 INTERNAL, logged at error', () => {
    const response = fakeResponse(false);
    const filter = new AllExceptionsFilter();
    const logError = jest.spyOn(filter['logger'], 'error').mockImplementation(() => undefined);
    const violation = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });

    filter.catch(new QueryFailedError('SELEC 1', [], violation), hostFor(response));

    expect(response.statusCode).toBe(500);
    expect(response.body).toMatchObject({ error: { code: 'INTERNAL' } });
    expect(logError).toHaveBeenCalledTimes(1);
  });
});
