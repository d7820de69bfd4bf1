/**
 * Admins for the admin API's tests: a policy file whose first rule grants `admin: true` to chosen
 * subjects of the test issuer (the OIDC_* shorthand, issuer `default`), and whose second lets every
 * other caller register runners with any labels, as without a policy.
 */
import { type PolicyFile, writePolicyFile } from './policy.js';

export function adminPolicy(...subjects: string[]): PolicyFile {
  return writePolicyFile(`
rules:
  - name: admins
    issuer: default
    claims: { sub: ${JSON.stringify(subjects)} }
    grant: { admin: true, labels: { allowed: [{ pattern: ".*" }] }, registration_tokens: true }
  - name: everyone
    issuer: default
    claims: { sub: { pattern: ".+" } }
    grant: { labels: { allowed: [{ pattern: ".*" }] }, registration_tokens: true }
`);
}
