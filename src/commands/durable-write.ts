import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { cannotWrite, FILE_MODE } from './atomic-file.js';

/** fsync's answers for what cannot be synced (a pipe, a terminal, a socket): nothing to wait for there. */
const NOT_SYNCABLE = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EROFS']);
const NEWLINE = 0x0a;

/** Runs an fsync-like call; a descriptor that cannot be synced counts as done. */
export async function syncIfPossible(sync: () => Promise<void>): Promise<void> {
  try {
    await sync();
  } catch (error) {
    if (!NOT_SYNCABLE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}

/**
 * A file that only grows: each write goes to its end and is on disk when it resolves, so a
 * position stored afterwards never runs ahead of the lines it stands for. For logs that other
 * programs tail; created readable by its owner only.
 */
export class AppendOnlyFile {
  private constructor(
    readonly path: string,
    private readonly handle: Awaited<ReturnType<typeof open>>,
  ) {}

  /**
   * Opens `path` for appending, creating it if needed. A last line cut short (a process killed
   * in the middle of a write) is ended first, so the next line starts on a line of its own.
   */
  static async open(path: string): Promise<AppendOnlyFile> {
    const handle = await open(path, 'a+', FILE_MODE).catch((error: NodeJS.ErrnoException) => {
      throw new Error(cannotWrite(path, dirname(resolve(path)), error));
    });
    const file = new AppendOnlyFile(path, handle);
    try {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== NEWLINE) await file.write('\n');
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    return file;
  }

  async write(text: string): Promise<void> {
    await this.handle.appendFile(text);
    await syncIfPossible(() => this.handle.datasync());
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
