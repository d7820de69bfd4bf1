/**
 * A piece of SQL to embed in a larger statement, with the values of its parameters. `sql` numbers its
 * parameters ($n) from the `firstParam` it was built with, so that they follow the statement's own.
 */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}
