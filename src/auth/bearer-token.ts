import type { IncomingHttpHeaders } from 'node:http';

/** Longer than any token an issuer sends; a bigger one is refused before it is parsed. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** `Authorization: Bearer <token>` (scheme case-insensitive); null when absent or another scheme. */
export function extractBearerToken(headers: IncomingHttpHeaders): string | null {
  const header = headers.authorization;
  if (typeof header !== 'string') return null;
  return BEARER.exec(header)?.[1] ?? null;
}

/** A JWT's header and payload as sent: nothing in them is to be believed before the signature is checked. */
export interface UnverifiedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * Splits a compact JWS into its decoded header and payload, or null unless it is three base64url
 * parts of which the first two are JSON objects.
 */
export function decodeUnverified(token: string): UnverifiedToken | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return null;
  const header = decodeJsonObject(parts[0]);
  const payload = decodeJsonObject(parts[1]);
  return header && payload ? { header, payload } : null;
}

function decodeJsonObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
