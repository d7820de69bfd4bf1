import { sign } from '@octokit/webhooks-methods';
import { checkSignature } from './webhook-signature.js';

// GitHub's own test vector (docs: "Validating webhook deliveries").
const GITHUB_SECRET = "It's a Secret to Everybody";
const GITHUB_BODY = 'Hello, World!';
const GITHUB_SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

describe('checkSignature', () => {
  it("accepts GitHub's test vector and hands back the body as text", async () => {
    expect(await checkSignature(GITHUB_SECRET, Buffer.from(GITHUB_BODY), GITHUB_SIGNATURE)).toEqual({ check: 'valid', text: GITHUB_BODY });
  });

  it('accepts the signature in upper-case hex too', async () => {
    const upper = `sha256=${GITHUB_SIGNATURE.slice('sha256='.length).toUpperCase()}`;
    expect((await checkSignature(GITHUB_SECRET, Buffer.from(GITHUB_BODY), upper)).check).toBe('valid');
  });

  it('refuses a body changed by one byte', async () => {
    expect((await checkSignature(GITHUB_SECRET, Buffer.from('Hello, World?'), GITHUB_SIGNATURE)).check).toBe('mismatch');
  });

  it('refuses the right body signed with another secret', async () => {
    const forged = await sign('another secret of some length', GITHUB_BODY);
    expect((await checkSignature(GITHUB_SECRET, Buffer.from(GITHUB_BODY), forged)).check).toBe('mismatch');
  });

  it.each([
    ['no header', undefined, 'missing'],
    ['an empty header', '', 'missing'],
    ['the SHA-1 form of the old X-Hub-Signature', 'sha1=7d38cdd689735b008b3c702edd92eea23791c5f6', 'mismatch'],
    ['a signature cut short', GITHUB_SIGNATURE.slice(0, 40), 'mismatch'],
    ['hex without its prefix', GITHUB_SIGNATURE.slice('sha256='.length), 'mismatch'],
  ])('refuses %s', async (_case, header, expected) => {
    expect((await checkSignature(GITHUB_SECRET, Buffer.from(GITHUB_BODY), header)).check).toBe(expected);
  });

  it('refuses an empty body whatever the header says', async () => {
    expect((await checkSignature(GITHUB_SECRET, Buffer.alloc(0), GITHUB_SIGNATURE)).check).toBe('mismatch');
  });

  it('refuses bytes that are not UTF-8, even when they are signed: they could not be the text that was verified', async () => {
    // 0xff never occurs in UTF-8; a lenient decoder would turn it into U+FFFD and sign other bytes.
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d]);
    const { createHmac } = await import('node:crypto');
    const signature = `sha256=${createHmac('sha256', GITHUB_SECRET).update(bytes).digest('hex')}`;
    expect((await checkSignature(GITHUB_SECRET, bytes, signature)).check).toBe('not_utf8');
  });

  it('verifies over the exact bytes: a byte-order mark is part of what was signed', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    const signature = await sign(GITHUB_SECRET, body.toString('utf8'));
    expect((await checkSignature(GITHUB_SECRET, body, signature)).check).toBe('valid');
    expect((await checkSignature(GITHUB_SECRET, Buffer.from('{"a":1}'), signature)).check).toBe('mismatch');
  });
});
