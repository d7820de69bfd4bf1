/**
 * Regular expressions that operators write (policy claim patterns, KNOWN_RUNNER_NAMES) and that run
 * on values others choose (claims, runner names): compiled to match whole values, and refused when
 * their shape can backtrack exponentially.
 */

/**
 * Compiles a pattern to match whole values: `^(?:p)$`, with the `u` flag (code points, and a typo
 * such as `\q` is an error instead of a literal q). The pattern must compile on its own first: one
 * with an unbalanced `)` could otherwise close the wrapper's group and escape the anchors
 * (`x)|(.*` would become `^(?:x)|(.*)$`, which matches anything).
 */
export function compileWholeValuePattern(source: string, flags = 'u'): RegExp | string {
  try {
    new RegExp(source, flags);
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return `invalid regular expression: ${reason}`;
  }
  if (hasNestedQuantifier(source)) {
    return (
      'a repeated group that itself repeats (like (a+)+ or ([a-z]+-?)*) can take exponential time on a value someone ' +
      'else chooses (a claim, a runner name), which would stall the service: repeat either the group or what is inside it, not both'
    );
  }
  return new RegExp(`^(?:${source})$`, flags);
}

const UNBOUNDED_QUANTIFIER = /^(?:[*+]|\{\d*,\d*\})/;

/**
 * Whether a group that contains an unbounded quantifier (`*`, `+`, `{n,}`, `{n,m}`) is itself
 * quantified: the classic shape of catastrophic backtracking. Escapes and character classes are
 * skipped; a lone `?` (at most once) is not counted.
 */
export function hasNestedQuantifier(source: string): boolean {
  const groups: boolean[] = [];
  let repeatsInside = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') {
      i++;
    } else if (char === '[') {
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
    } else if (char === '(') {
      groups.push(repeatsInside);
      repeatsInside = false;
    } else if (char === ')') {
      const groupRepeats: boolean = repeatsInside;
      repeatsInside = groups.pop() ?? false;
      const quantified = UNBOUNDED_QUANTIFIER.test(source.slice(i + 1));
      if (groupRepeats && quantified) return true;
      repeatsInside ||= groupRepeats || quantified;
    } else if (UNBOUNDED_QUANTIFIER.test(source.slice(i))) {
      repeatsInside = true;
    }
  }
  return false;
}
