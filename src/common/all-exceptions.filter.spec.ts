import type { ArgumentsHost } from '@nestjs/common';
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
});
