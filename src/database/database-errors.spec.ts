import { QueryFailedError } from 'typeorm';
import { describeDatabaseFailure, isDatabaseUnavailable } from './database-errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const failedQuery = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

describe('isDatabaseUnavailable', () => {
  it.each<[string, unknown]>([
    ['a refused connection', withCode('connect ECONNREFUSED 10.0.0.5:5432', 'ECONNREFUSED')],
    ['a reset connection, as TypeORM wraps it', failedQuery(withCode('read ECONNRESET', 'ECONNRESET'))],
    ['every address of a host name refused', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], 'connect failed')],
    ['a server gone mid-query', failedQuery(new Error('Connection terminated unexpectedly'))],
    ['a connect timeout', new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') })],
    ["the pool's queue timeout", new Error('timeout exceeded when trying to connect')],
    ['a query nobody answered', failedQuery(new Error('Query read timeout'))],
    ['a client after its connection failed', new Error('Client has encountered a connection error and is not queryable')],
    ['SQLSTATE class 08', failedQuery(withCode('connection failure', '08006'))],
    ['an administrator shutdown (57P01)', failedQuery(withCode('terminating connection due to administrator command', '57P01'))],
    ['a crash shutdown (57P02)', failedQuery(withCode('terminating connection because of crash of another server process', '57P02'))],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['the statement timeout (57014)', failedQuery(withCode('canceling statement due to statement timeout', '57014'))],
  ])('is true for %s', (_case, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a unique violation', failedQuery(withCode('duplicate key value violates unique constraint', '23505'))],
    ['a syntax error', failedQuery(withCode('syntax error at or near "SELEC"', '42601'))],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a string', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('is false for %s', (_case, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('does not loop on an error that is its own cause', () => {
    const error: Error & { cause?: unknown } = new Error('odd');
    error.cause = error;
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('describeDatabaseFailure', () => {
  it('names a network failure by its code only, and a server refusal by SQLSTATE and message', () => {
    expect(describeDatabaseFailure(failedQuery(withCode('connect ECONNREFUSED 10.0.0.5:5432', 'ECONNREFUSED')))).toBe('ECONNREFUSED');
    expect(describeDatabaseFailure(withCode('the database system is starting up', '57P03'))).toBe('57P03: the database system is starting up');
    expect(describeDatabaseFailure(new Error('Query read timeout'))).toBe('Query read timeout');
  });
});
