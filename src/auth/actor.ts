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

export class Actor {
  constructor(
    readonly kind: ActorKind,
    /** The token's `iss` (ownership is bound to issuer + subject). */
    readonly issuer: string,
    /** The token's `sub`. */
    readonly subject: string,
    /** The user claim (OIDC_USER_CLAIM, default `email`, else `sub`): what people see. */
    readonly name: string,
    readonly requestId?: string,
    readonly sourceIp?: string,
  ) {}

  static user(
    identity: { issuer: string; subject: string; name: string },
    request?: { requestId?: string; sourceIp?: string },
  ): Actor {
    return new Actor('user', identity.issuer, identity.subject, identity.name, request?.requestId, request?.sourceIp);
  }

  static local(request?: { requestId?: string; sourceIp?: string }): Actor {
    return new Actor('user', LOCAL_ISSUER, LOCAL_SUBJECT, LOCAL_NAME, request?.requestId, request?.sourceIp);
  }

  static system(component: string): Actor {
    return new Actor('system', SYSTEM_ISSUER, component, `system:${component}`);
  }
}
