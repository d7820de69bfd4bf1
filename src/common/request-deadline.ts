import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';

/**
 * Each HTTP request's total budget: every GitHub call made for it shares what is left, so a chain
 * of slow calls (a lost answer, a lookup, a removal) cannot hold a caller past it. Outside a request
 * (the CLI, the scheduler) there is no budget, and each call has its own timeout only.
 */
const budgets = new AsyncLocalStorage<{ deadline: number }>();

/** Express middleware: the request, and everything it starts, runs with `budgetMs` from now. */
export function requestDeadline(budgetMs: number) {
  return (_request: Request, _response: Response, next: NextFunction): void => {
    budgets.run({ deadline: Date.now() + budgetMs }, next);
  };
}

/** Milliseconds left of the current request's budget (0 once spent); undefined outside a request. */
export function remainingBudgetMs(now = Date.now()): number | undefined {
  const budget = budgets.getStore();
  return budget === undefined ? undefined : Math.max(0, budget.deadline - now);
}
