import type { SimResponse } from './simulator-http.js';

/**
 * Routes as data: a method, a path pattern and a handler. One table type and one matcher serve both
 * GitHub's REST routes and the `/_simulator` control routes.
 */

/** The path segments a pattern's `{name}` placeholders matched, still percent-encoded. */
export type RouteParams = Record<string, string>;

export interface Route<Context> {
  method: string;
  /** A path with `{name}` placeholders as GitHub's docs write them; each matches one non-empty segment. */
  path: string;
  handle: (context: Context & { params: RouteParams }) => SimResponse;
}

/** What a GitHub REST handler may use from its request. */
export interface ApiRequest {
  query: Record<string, string>;
  body: unknown;
  /** The token of the Authorization header (`Bearer` or `token` scheme), if any. */
  credential: string | undefined;
}

/** A route under /orgs/{org}/actions: it needs an installation token, and 404s for another org with its docs. */
export interface OrgRoute extends Route<ApiRequest> {
  docs: string;
}

interface CompiledRoute<Context> {
  route: Route<Context>;
  pattern: RegExp;
}

export class RouteTable<Context> {
  private readonly routes: CompiledRoute<Context>[];

  constructor(routes: readonly Route<Context>[]) {
    this.routes = routes.map((route) => ({ route, pattern: compilePattern(route.path) }));
  }

  /**
   * Answers with the first route of this method whose pattern matches the path, or undefined when none does.
   * Params stay percent-encoded: a handler decodes those it reads as text, and a runner id must be plain digits.
   */
  dispatch(method: string, path: string, context: Context): SimResponse | undefined {
    for (const { route, pattern } of this.routes) {
      if (route.method !== method) continue;
      const match = pattern.exec(path);
      if (match) return route.handle({ ...context, params: { ...match.groups } });
    }
    return undefined;
  }
}

function compilePattern(path: string): RegExp {
  const source = path
    .split(/(\{\w+\})/)
    .map((part) => {
      const placeholder = /^\{(\w+)\}$/.exec(part);
      return placeholder ? `(?<${placeholder[1]}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}
