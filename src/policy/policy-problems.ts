import type { ErrorObject } from 'ajv';

/**
 * Problems with a policy file, each as `location: what is wrong`, where the location names the rule
 * or issuer by index and name and then the field: `rules[1] "ci-main-repos": grant.labels.allowed[0]`.
 * Used for the schema's findings (ajv's errors, reworded) and for the loader's own checks.
 */

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUOTED_NAME_MAX_LENGTH = 64;

/** `grant.labels.allowed[0]`; a key with dots or other characters as `claims["kubernetes.io.namespace"]`. */
export function fieldPath(segments: readonly PathSegment[]): string {
  return segments
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (!PLAIN_KEY.test(segment)) return `[${JSON.stringify(segment)}]`;
      return index === 0 ? segment : `.${segment}`;
    })
    .join('');
}

/** Where `segments` point in the raw file: the rule or issuer by index and name, then the field. */
export function locate(data: unknown, segments: readonly PathSegment[]): string {
  if (segments.length === 0) return 'top level';
  const [list, index, ...rest] = segments;
  if ((list === 'rules' || list === 'issuers') && typeof index === 'number') {
    const entry = (data as Record<string, unknown[]> | null)?.[list]?.[index] as Record<string, unknown> | undefined;
    const name = typeof entry?.name === 'string' ? ` ${JSON.stringify(entry.name.slice(0, QUOTED_NAME_MAX_LENGTH))}` : '';
    const item = `${list}[${index}]${name}`;
    return rest.length === 0 ? item : `${item}: ${fieldPath(rest)}`;
  }
  return fieldPath(segments);
}

/** One problem: `location: message`. */
export function problemAt(data: unknown, segments: readonly PathSegment[], message: string): string {
  return `${locate(data, segments)}: ${message}`;
}

/** JSON Pointer (`/rules/1/claims/kubernetes.io~1namespace`) to segments, numbers for array indexes. */
function segmentsOf(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(node) && /^\d+$/.test(key) ? Number(key) : key;
    segments.push(segment);
    node = node !== null && typeof node === 'object' ? (node as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return segments;
}

function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let node = data;
  for (const segment of segments) {
    node = node !== null && typeof node === 'object' ? (node as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return node;
}

/** `a string`, `a list`, `nothing`: what a value is, for "must be X (got Y)". */
export function describeKind(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  return `a ${typeof value}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function isAtOrBelow(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

type SchemaNode = { properties?: Record<string, unknown>; errorMessage?: string; patternErrorMessage?: string };

/** One ajv error in words, without its location. */
function describeError(error: ErrorObject, value: unknown): string {
  const params = error.params as Record<string, unknown>;
  const schema = (error.parentSchema ?? {}) as SchemaNode;
  switch (error.keyword) {
    case 'additionalProperties': {
      const known = Object.keys(schema.properties ?? {});
      return `unknown field ${JSON.stringify(params.additionalProperty)}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`;
    }
    case 'type': {
      const types = ([] as unknown[]).concat(params.type).map((type) => TYPE_NAMES[String(type)] ?? String(type));
      return `must be ${types.join(' or ')} (got ${describeKind(value)})`;
    }
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).join(', ')} (got ${JSON.stringify(value)})`;
    case 'pattern':
      return schema.patternErrorMessage ?? `must match ${String(params.pattern)}`;
    case 'minItems':
      return params.limit === 1 ? 'must not be an empty list' : `must hold at least ${String(params.limit)} items`;
    case 'maxItems':
      return `must hold at most ${String(params.limit)} items`;
    case 'uniqueItems':
      return `lists the same value twice (items ${Math.min(Number(params.i), Number(params.j))} and ${Math.max(Number(params.i), Number(params.j))})`;
    case 'minLength':
      return params.limit === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(params.limit)} characters`;
    case 'minimum':
      return `must be at least ${String(params.limit)}`;
    case 'maximum':
      return `must be at most ${String(params.limit)}`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/** Errors that only say which branch of an anyOf a value missed: the anyOf's own message covers them. */
const BRANCH_NOISE = new Set(['type', 'required', 'additionalProperties', 'anyOf']);

/**
 * ajv's errors (allErrors, verbose) as problems. An anyOf (a value of several accepted shapes) is
 * one problem with the schema's `errorMessage`, not one per shape it missed: the innermost failing
 * anyOf is reported, with the unknown fields it saw and the one specific finding of a shape, if any.
 */
export function schemaProblems(errors: readonly ErrorObject[], data: unknown): string[] {
  const anyOfs = errors.filter((error) => error.keyword === 'anyOf');
  const innermost = anyOfs.filter(
    (outer) => !anyOfs.some((inner) => inner !== outer && inner.instancePath !== outer.instancePath && isAtOrBelow(inner.instancePath, outer.instancePath)),
  );
  const problems: string[] = [];
  for (const error of errors) {
    // A pattern on a property name comes with its propertyNames error, which says it better.
    if ((error as { propertyName?: string }).propertyName !== undefined) continue;
    const segments = segmentsOf(error.instancePath, data);
    const value = valueAt(data, segments);
    if (error.keyword === 'anyOf') {
      if (innermost.includes(error)) problems.push(problemAt(data, segments, describeAnyOf(error, errors, data, value)));
      continue;
    }
    if (anyOfs.some((anyOf) => isAtOrBelow(error.instancePath, anyOf.instancePath))) continue;
    if (error.keyword === 'required') {
      problems.push(problemAt(data, [...segments, String(error.params.missingProperty)], 'is required'));
    } else if (error.keyword === 'propertyNames') {
      const name = JSON.stringify(String(error.params.propertyName));
      problems.push(problemAt(data, segments, `${name} is not a claim path (names separated by dots, none empty, no spaces)`));
    } else {
      problems.push(problemAt(data, segments, describeError(error, value)));
    }
  }
  return [...new Set(problems)];
}

function describeAnyOf(error: ErrorObject, errors: readonly ErrorObject[], data: unknown, value: unknown): string {
  const expected = (error.parentSchema as SchemaNode | undefined)?.errorMessage ?? 'has an unexpected shape';
  const inside = errors.filter((other) => other !== error && isAtOrBelow(other.instancePath, error.instancePath));
  const unknownFields = [
    ...new Set(
      inside
        .filter((other) => other.keyword === 'additionalProperties' && other.instancePath === error.instancePath)
        .map((other) => JSON.stringify(other.params.additionalProperty)),
    ),
  ];
  if (unknownFields.length > 0) return `${expected} (unknown field ${unknownFields.join(', ')})`;
  // One shape came close (a label with a space, an empty pattern): say what it missed.
  const specific = inside.find(
    (other) =>
      !BRANCH_NOISE.has(other.keyword) &&
      !(other.keyword === 'pattern' && (other.parentSchema as SchemaNode | undefined)?.patternErrorMessage === undefined),
  );
  if (!specific) return expected;
  const base = segmentsOf(error.instancePath, data).length;
  const segments = segmentsOf(specific.instancePath, data);
  const where = segments.length > base ? `${fieldPath(segments.slice(base))} ` : '';
  return `${expected}: ${where}${describeError(specific, valueAt(data, segments))}`;
}
