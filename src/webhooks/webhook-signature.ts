import { verify } from '@octokit/webhooks-methods';

/** Why a delivery's signature was refused, or that it holds. */
export type SignatureCheck = 'valid' | 'missing' | 'mismatch' | 'not_utf8';

/** `sha256=` and 64 hex digits, as GitHub sends X-Hub-Signature-256. */
const SIGNATURE_PATTERN = /^sha256=[0-9a-f]{64}$/i;

// Strict: a byte sequence that is not UTF-8 is refused, not replaced, and a byte-order mark is kept,
// so the string verify() signs encodes back to exactly the bytes received.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the webhook's secret) with
 * @octokit/webhooks-methods, whose verify() compares with crypto.timingSafeEqual. verify() takes the
 * body as a string and signs its UTF-8 encoding; decoding strictly makes that the exact bytes GitHub
 * signed. Returns the body as text when the signature holds.
 */
export async function checkSignature(
  secret: string,
  body: Buffer,
  signature: string | undefined,
): Promise<{ check: Exclude<SignatureCheck, 'valid'> } | { check: 'valid'; text: string }> {
  if (signature === undefined || signature === '') return { check: 'missing' };
  // verify() needs a body and a well-formed header; either missing is simply a wrong signature.
  if (body.length === 0 || !SIGNATURE_PATTERN.test(signature)) return { check: 'mismatch' };
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { check: 'not_utf8' };
  }
  // GitHub sends lower-case hex; verify() compares the header's bytes as they are.
  return (await verify(secret, text, signature.toLowerCase())) ? { check: 'valid', text } : { check: 'mismatch' };
}
