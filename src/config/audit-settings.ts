import type { AuditSettings } from './app-config.js';
import type { EnvReader } from './env-reader.js';

/** The CloudEvents `source` of exported audit events without AUDIT_EVENT_SOURCE, followed by `:<GITHUB_ORG>` when that is set. */
export const DEFAULT_AUDIT_EVENT_SOURCE = 'urn:runner-token-service';
/** A GitHub organization login. */
export const GITHUB_ORG_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;

/**
 * AUDIT_EVENT_SOURCE, else one built from GITHUB_ORG, read raw: the export runs with only the
 * database configured, where GITHUB_ORG is not required (a value that is no login is left out).
 */
export function readAudit(reader: EnvReader): AuditSettings {
  const source = reader.string('AUDIT_EVENT_SOURCE');
  if (source === undefined) {
    const org = reader.string('GITHUB_ORG');
    return { eventSource: org !== undefined && GITHUB_ORG_LOGIN.test(org) ? `${DEFAULT_AUDIT_EVENT_SOURCE}:${org}` : DEFAULT_AUDIT_EVENT_SOURCE };
  }
  // CloudEvents asks for a URI-reference; an absolute URI is what names a producer across systems.
  if (!URL.canParse(source) || /\s/.test(source)) {
    reader.problem(
      'AUDIT_EVENT_SOURCE',
      `must be an absolute URI such as urn:runner-token-service:prod-eu or https://rts.example.com (got "${source}")`,
    );
  }
  return { eventSource: source };
}
