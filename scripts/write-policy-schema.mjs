// Writes the policy file's JSON Schema (src/policy/policy.schema.ts, built into dist/) to
// docs/policy.schema.json, for editors. A test fails while the two differ.
// Usage: npm run policy:schema
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POLICY_SCHEMA } from '../dist/policy/policy.schema.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = join(root, 'docs', 'policy.schema.json');
writeFileSync(output, `${JSON.stringify(POLICY_SCHEMA, null, 2)}\n`);
console.log(`Wrote ${output}`);
