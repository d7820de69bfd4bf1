/** A boolean SQL expression and the values of its parameters, for a statement that embeds it. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}
