import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { type Observable, throwError, timeout } from 'rxjs';
import { DomainError, ERROR_CODES } from './domain-error.js';
import { remainingBudgetMs } from './request-deadline.js';

/**
 * Answers 504 REQUEST_DEADLINE_EXCEEDED once the request's budget is spent, whatever the handler is
 * still waiting for. The handler's work is not cut short: what it started (a provisioning attempt's
 * clean-up and closing audit event) finishes in the background, and the caller can look at the
 * outcome with GET /runners.
 */
@Injectable()
export class RequestDeadlineInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const remaining = remainingBudgetMs();
    if (remaining === undefined) return next.handle();
    return next.handle().pipe(
      timeout({
        first: Math.max(1, remaining),
        with: () =>
          throwError(
            () =>
              new DomainError(
                ERROR_CODES.REQUEST_DEADLINE_EXCEEDED,
                'The request ran out of time (GitHub was slow to answer); whatever it started finishes on its own: ' +
                  'look at GET /api/v1/runners before you try again',
              ),
          ),
      }),
    );
  }
}
