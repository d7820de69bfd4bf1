import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { DomainError, ERROR_CODES } from './domain-error.js';

/**
 * Arrays and objects inside one another, at most. Every request the API takes nests two deep; the
 * DTO transformer recurses once per level and overflows the stack a few thousand levels down.
 */
export const MAX_INPUT_DEPTH = 32;

interface Violation {
  field: string;
  message: string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first thing in `value` no handler should see, walked without recursion. */
function findViolation(value: unknown, root: string): Violation | undefined {
  const pending: { value: unknown; field: string; depth: number }[] = [{ value, field: root, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { field, depth } = next;
    if (typeof next.value === 'string') {
      // PostgreSQL text and jsonb cannot hold it: the query would fail, not answer.
      if (next.value.includes('\u0000')) {
        return { field: field || 'request', message: `${field || 'The request'} must not contain the NUL character (\\u0000)` };
      }
      // A lone UTF-16 surrogate (JSON's "\ud800") is no character: UTF-8 text and jsonb refuse it.
      if (LONE_SURROGATE.test(next.value)) {
        return { field: field || 'request', message: `${field || 'The request'} must be valid Unicode text (it has a lone surrogate)` };
      }
      continue;
    }
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (depth >= MAX_INPUT_DEPTH) {
      // Named by its first field: the full path would be as long as the nesting.
      const top = field.split('.')[0];
      return { field: top, message: `${top} nests arrays and objects more than ${MAX_INPUT_DEPTH} levels deep` };
    }
    for (const [key, item] of Object.entries(next.value)) {
      pending.push({ value: item, field: field ? `${field}.${key}` : key, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * Runs before validation on every body, query and path parameter: refuses text with a NUL character
 * or a lone surrogate, and arrays or objects nested past MAX_INPUT_DEPTH with 400 VALIDATION_FAILED, in the shape of every
 * other validation error. The caller (a custom decorator's value) is not input.
 */
export class UntrustedInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    // Fields as the validation errors name them: labels.0, cursor, idOrName.
    const violation = findViolation(value, metadata.type === 'param' ? (metadata.data ?? 'path') : '');
    if (violation) throw new DomainError(ERROR_CODES.VALIDATION_FAILED, violation.message, { violations: [violation] });
    return value;
  }
}
