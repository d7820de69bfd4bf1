import { DomainError } from './domain-error.js';
import { MAX_INPUT_DEPTH, UntrustedInputPipe } from './untrusted-input.pipe.js';

const pipe = new UntrustedInputPipe();
const body = { type: 'body' } as const;

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level += 1) value = [value];
  return value;
}

function violationsOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_FAILED');
    return (error as DomainError).details?.violations;
  }
  throw new Error('the input was let through');
}

describe('UntrustedInputPipe', () => {
  it('lets ordinary input through unchanged', () => {
    const value = { runner_name: 'build-1', labels: ['gpu', 'ubuntu-22.04'], runner_group_id: 1 };
    expect(pipe.transform(value, body)).toBe(value);
    expect(pipe.transform({ labels: nested(MAX_INPUT_DEPTH - 1) }, body)).toBeDefined();
  });

  it('refuses a NUL character anywhere, naming where it was', () => {
    expect(violationsOf(() => pipe.transform({ reason: 'a\u0000b' }, body))).toEqual([
      { field: 'reason', message: 'reason must not contain the NUL character (\\u0000)' },
    ]);
    expect(violationsOf(() => pipe.transform({ labels: ['ok', '\u0000'] }, body))).toEqual([
      { field: 'labels.1', message: 'labels.1 must not contain the NUL character (\\u0000)' },
    ]);
    expect(violationsOf(() => pipe.transform('x\u0000', { type: 'param', data: 'idOrName' }))).toEqual([
      { field: 'idOrName', message: 'idOrName must not contain the NUL character (\\u0000)' },
    ]);
  });

  it('refuses a lone surrogate anywhere (jsonb refuses "\\ud800"), and lets a pair through', () => {
    expect(violationsOf(() => pipe.transform({ rule: '\ud800' }, body))).toEqual([
      { field: 'rule', message: 'rule must be valid Unicode text (it has a lone surrogate)' },
    ]);
    expect(violationsOf(() => pipe.transform({ labels: ['ok', 'x\udc00'] }, body))).toEqual([
      { field: 'labels.1', message: 'labels.1 must be valid Unicode text (it has a lone surrogate)' },
    ]);
    const paired = { reason: 'rocket \ud83d\ude80' };
    expect(pipe.transform(paired, body)).toBe(paired);
  });

  it(`refuses arrays and objects nested more than ${MAX_INPUT_DEPTH} levels deep, by their first field, without recursing`, () => {
    expect(violationsOf(() => pipe.transform({ labels: nested(MAX_INPUT_DEPTH) }, body))).toEqual([
      { field: 'labels', message: `labels nests arrays and objects more than ${MAX_INPUT_DEPTH} levels deep` },
    ]);
    expect(violationsOf(() => pipe.transform({ labels: nested(100_000) }, body))).toHaveLength(1);
  });

  it('leaves the caller a custom decorator supplies alone', () => {
    const actor = { subject: '\u0000' };
    expect(pipe.transform(actor, { type: 'custom' })).toBe(actor);
  });
});
