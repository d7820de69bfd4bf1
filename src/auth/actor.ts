/**
 * Who is acting: an OIDC caller, the local development identity, or a part of the system (the CLI,
 * the scheduler). Every service method takes the Actor first, so the audit trail always knows who
 * acted and ownership checks look the same for HTTP, CLI and jobs.
 */
export type ActorKind = 'user' | 'system';

/** The fixed identity used when ENABLE_OIDC_AUTH=false. */
export const LOCAL_ISSUER = 'local';
export const LOCAL_SUBJECT = 'local-user';
export const LOCAL_NAME = 'local-user';
export const SYSTEM_ISSUER = 'system';

/** Who a verified token says the caller is. Ownership is bound to issuer + subject; name is for display. */
export interface Identity {
  /** The token's `iss`. */
  issuer: string;
  /** The token's `sub`. */
  subject: string;
  /** The issuer's display claim, else `sub`. */
  name: string;
  /** The configured issuer's name in the policy (`github-actions`); absent for local and system actors. */
  issuerName?: string;
  /** The verified token payload, for the policy's claim conditions. */
  claims?: Readonly<Record<string, unknown>>;
}

const NO_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({});

export class Actor {
  constructor(
    readonly kind: ActorKind,
    /** The token's `iss` (ownership is bound to issuer + subject). */
    readonly issuer: string,
    /** The token's `sub`. */
    readonly subject: string,
    /** The display claim (default `email`, else `sub`): what people see. */
    readonly name: string,
    readonly requestId?: string,
    readonly sourceIp?: string,
    /** The verified token's claims; empty for local and system actors. */
    readonly claims: Readonly<Record<string, unknown>> = NO_CLAIMS,
    /** The policy's name for the issuer; null for local and system actors. */
    readonly issuerName: string | null = null,
  ) {}

  static user(identity: Identity, request?: { requestId?: string; sourceIp?: string }): Actor {
    return new Actor(
      'user',
      identity.issuer,
      identity.subject,
      identity.name,
      request?.requestId,
      request?.sourceIp,
      identity.claims ?? NO_CLAIMS,
      identity.issuerName ?? null,
    );
  }

  static local(request?: { requestId?: string; sourceIp?: string }): Actor {
    return new Actor('user', LOCAL_ISSUER, LOCAL_SUBJECT, LOCAL_NAME, request?.requestId, request?.sourceIp);
  }

  /** A part of the system; with the request it acts on, when one set it off (a webhook delivery). */
  static system(component: string, request?: { requestId?: string; sourceIp?: string }): Actor {
    return new Actor('system', SYSTEM_ISSUER, component, `system:${component}`, request?.requestId, request?.sourceIp);
  }
}
