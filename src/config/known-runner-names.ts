/**
 * KNOWN_RUNNER_NAMES: the names of runners that other tools legitimately manage in the org (ARC's
 * `arc-.*`, say), as comma-separated regular expressions that must match a whole name. A runner they
 * match is never foreign: never reported, never removed.
 */
import { compileWholeValuePattern } from '../common/whole-value-pattern.js';
import type { EnvReader } from './env-reader.js';

export const KNOWN_RUNNER_NAMES = 'KNOWN_RUNNER_NAMES';

/**
 * The patterns of a comma-separated list. A comma inside `{}`, `[]` or `()`, or escaped as `\,`,
 * belongs to its pattern (`[a-z]{2,8}` is one pattern); blanks around patterns are dropped, and so
 * are empty entries.
 */
export function splitPatternList(raw: string): string[] {
  const patterns: string[] = [];
  let current = '';
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (char === '\\' && i + 1 < raw.length) {
      current += char + raw[++i];
      continue;
    }
    if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
    } else if (char === '{' || char === '(') {
      depth++;
    } else if ((char === '}' || char === ')') && depth > 0) {
      depth--;
    } else if (char === ',' && depth === 0) {
      patterns.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  patterns.push(current);
  return patterns.map((pattern) => pattern.trim()).filter((pattern) => pattern.length > 0);
}

/** The compiled patterns (whole-name matches); each bad one is a start problem that quotes it. */
export function readKnownRunnerNames(reader: EnvReader): RegExp[] {
  const raw = reader.string(KNOWN_RUNNER_NAMES);
  if (raw === undefined) return [];
  const compiled: RegExp[] = [];
  for (const source of splitPatternList(raw)) {
    const regex = compileWholeValuePattern(source);
    if (typeof regex === 'string') reader.problem(KNOWN_RUNNER_NAMES, `has the pattern ${JSON.stringify(source)}: ${regex}`);
    else compiled.push(regex);
  }
  return compiled;
}

/** Whether one of the patterns matches the whole name. */
export function isKnownRunnerName(name: string, patterns: readonly RegExp[]): boolean {
  return patterns.some((pattern) => pattern.test(name));
}
