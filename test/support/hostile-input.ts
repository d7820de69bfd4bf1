/**
 * Generators of hostile requests for the property-based tests: JSON bodies (arbitrary values, and
 * objects with a route's real field names filled with huge strings, unicode, control characters,
 * deep nesting, numbers as strings, __proto__ keys), query strings and path ids.
 */
import fc from 'fast-check';

/** Texts that have broken parsers, validators, databases and templates before. */
const KNOWN_BAD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202e',
  '\ufeff',
  '\u2028',
  '\ud800',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '../../etc/passwd',
  '%00',
  '%ZZ',
  "' OR '1'='1",
  '$1',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  'null',
  'true',
  '[]',
  '{}',
  '1',
  '-1',
  '0',
  '1e309',
  'NaN',
  'Infinity',
  '9007199254740993',
  '1.5',
  '0x10',
  'self-hosted',
  'ci',
  'runner-1',
  'active',
  'deleted',
  '2026-01-01',
  '2026-02-30T25:61:00Z',
  'provision',
  'a,b',
];

const controlCharacters = fc.string({
  unit: fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code)),
  maxLength: 20,
});

/** Past the JSON parser's 100 kB limit at the top, well under it at the bottom. */
const hugeString = fc
  .tuple(fc.integer({ min: 300, max: 120_000 }), fc.constantFrom('a', 'é', '😀', '\u0000', ',', ' ', '-'))
  .map(([length, unit]) => unit.repeat(length));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }), weight: 2 },
  { arbitrary: controlCharacters, weight: 1 },
  { arbitrary: fc.constantFrom(...KNOWN_BAD_STRINGS), weight: 3 },
  { arbitrary: hugeString, weight: 1 },
);

const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1, -1, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 1.5, Number.MAX_SAFE_INTEGER),
);

/** One JSON value as text. */
const leafText = fc.oneof(
  hostileString.map((value) => JSON.stringify(value)),
  hostileNumber.map((value) => JSON.stringify(value)),
  hostileNumber.map((value) => JSON.stringify(String(value))),
  fc.constantFrom('true', 'false', 'null', '1e400', '-0', '0.0000000000000000000000001', '123456789012345678901234567890'),
);

/** Arrays or objects nested thousands deep. */
const deepText = fc
  .tuple(fc.integer({ min: 50, max: 5_000 }), fc.boolean())
  .map(([depth, arrays]) => (arrays ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)));

const prototypeKeys = fc.constantFrom('__proto__', 'constructor', 'prototype');

function objectText(keys: fc.Arbitrary<string>, values: fc.Arbitrary<string>, maxKeys: number): fc.Arbitrary<string> {
  // Written out by hand: duplicate keys and __proto__ survive, as a client could send them.
  return fc
    .array(fc.tuple(keys, values), { maxLength: maxKeys })
    .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`);
}

const anyKey = fc.oneof(fc.string({ maxLength: 20 }), prototypeKeys);

/** Any JSON value as text, leaves hostile, nested a few levels (or thousands, once in a while). */
export const hostileValueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: leafText, weight: 6 },
    { arbitrary: fc.array(tie('value'), { maxLength: 6 }).map((items) => `[${items.join(',')}]`), weight: 2 },
    { arbitrary: objectText(anyKey, tie('value'), 4), weight: 1 },
    { arbitrary: deepText, weight: 1 },
  ),
})).value;

/** A body for a route whose fields are `fields`, and what the property expects of it. */
export function hostileBody(fields: readonly string[], plausible: Readonly<Record<string, unknown>>): fc.Arbitrary<string> {
  const fieldKeys = fields.length > 0 ? fc.constantFrom(...fields) : anyKey;
  const key = fc.oneof({ arbitrary: fieldKeys, weight: 6 }, { arbitrary: prototypeKeys, weight: 1 }, { arbitrary: anyKey, weight: 1 });
  // Every real field plausible but one: the hostile value reaches that field's own check.
  const nearlyValid = fc.tuple(key, hostileValueText).map(([field, value]) => {
    const others = Object.entries(plausible).filter(([name]) => name !== field);
    return `{${[...others.map(([name, good]) => `${JSON.stringify(name)}:${JSON.stringify(good)}`), `${JSON.stringify(field)}:${value}`].join(',')}}`;
  });
  return fc.oneof(
    { arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)), weight: 2 },
    { arbitrary: objectText(key, hostileValueText, 6), weight: 4 },
    { arbitrary: nearlyValid, weight: 4 },
    { arbitrary: hostileValueText, weight: 1 },
    // Not JSON at all, or cut short.
    { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
    { arbitrary: objectText(key, hostileValueText, 3).map((text) => text.slice(0, Math.max(1, text.length - 1))), weight: 1 },
  );
}

/** Lone surrogates cannot be percent-encoded: they travel as U+FFFD, as a client's encoder would send them. */
function wellFormed(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** A path segment as it goes on the wire: encoded text, or raw bytes no encoder would produce. */
export const hostilePathId: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hostileString.filter((text) => text.length < 2_000).map((text) => encodeURIComponent(wellFormed(text))), weight: 5 },
  { arbitrary: fc.uuid().map(String), weight: 1 },
  { arbitrary: fc.integer().map(String), weight: 1 },
  {
    arbitrary: fc.constantFrom('%', '%ZZ', '%00', '..', '.', '%2e%2e', '%2F', 'a%2Fb', '%C0%AF', '%E0%A4%A', '%FF', '%u0041', ';', '~', '%20'),
    weight: 2,
  },
  { arbitrary: fc.integer({ min: 65, max: 4_000 }).map((length) => 'a'.repeat(length)), weight: 1 },
);

/** A query string (without "?") over a route's parameter names and others, encoded or raw. */
export function hostileQuery(names: readonly string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    { arbitrary: names.length > 0 ? fc.constantFrom(...names) : fc.string({ maxLength: 10 }), weight: 5 },
    { arbitrary: fc.constantFrom('__proto__', 'constructor', 'a[b]', 'limit[]', '', 'status[0]'), weight: 1 },
    { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  );
  const value = hostileString.filter((text) => text.length < 1_000);
  const encoded = fc
    .array(fc.tuple(key, value), { maxLength: 5 })
    .map((pairs) => pairs.map(([name, text]) => `${encodeURIComponent(wellFormed(name))}=${encodeURIComponent(wellFormed(text))}`).join('&'));
  const raw = fc.string({ unit: fc.constantFrom('a', '=', '&', '%', '[', ']', '+', '.', '0', 'Z', ';', ' '), maxLength: 40 });
  return fc.oneof({ arbitrary: encoded, weight: 5 }, { arbitrary: raw, weight: 1 });
}
