import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { TextSink } from './json-array.js';

/** Text is collected up to this size before it is written, so small chunks cost no system call each. */
const WRITE_BUFFER_CHARS = 64 * 1024;
/** Audit exports name people and addresses: readable by the owner only, like a credentials file. */
export const FILE_MODE = 0o600;

/**
 * Writes a file through `produce` so that it appears complete or not at all: the text goes to a
 * temporary file beside it, which is flushed to disk and renamed over `path` only when `produce`
 * succeeded. On any failure the temporary file is removed and `path` is left as it was.
 */
export async function writeFileAtomically<T>(path: string, produce: (write: TextSink) => Promise<T>): Promise<T> {
  const target = resolve(path);
  const folder = dirname(target);
  const temporary = join(folder, `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx', FILE_MODE).catch((error: NodeJS.ErrnoException) => {
    throw new Error(cannotWrite(path, folder, error));
  });
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = async () => {
    if (pendingChars === 0) return;
    const text = pending.join('');
    pending = [];
    pendingChars = 0;
    await file.writeFile(text);
  };
  let closed = false;
  try {
    const result = await produce(async (chunk) => {
      pending.push(chunk);
      pendingChars += chunk.length;
      if (pendingChars >= WRITE_BUFFER_CHARS) await flush();
    });
    await flush();
    await file.sync();
    closed = true;
    await file.close();
    await rename(temporary, target).catch((error: NodeJS.ErrnoException) => {
      throw new Error(cannotWrite(path, folder, error));
    });
    return result;
  } catch (error) {
    if (!closed) await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Why `path`, in `folder`, cannot be written, in words that say what to change. */
export function cannotWrite(path: string, folder: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return `Cannot write ${path}: the folder ${folder} does not exist`;
  if (error.code === 'EISDIR') return `Cannot write ${path}: it is a folder`;
  if (error.code === 'EACCES' || error.code === 'EPERM') return `Cannot write ${path}: no permission to create files in ${folder}`;
  return `Cannot write ${path}: ${error.message}`;
}
