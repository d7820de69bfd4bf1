import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { AuditPosition } from '../audit/audit.service.js';
import { readInstant } from '../common/instant.js';
import { UUID_PATTERN } from '../common/text.js';
import { cannotWrite, writeFileAtomically } from './atomic-file.js';

/** A position's time exactly as the database wrote it: UTC, to the microsecond. */
const EXACT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** Larger than any cursor this command writes: a file this size is not one. */
const MAX_CURSOR_BYTES = 1024;

/**
 * Where `export-audit-log --cursor-file` resumes: the position of the last event it wrote, stored
 * as `{"occurred_at": "…", "id": "…"}` after every batch, once that batch is written and flushed.
 * The file is replaced whole (written beside it, then renamed), so a crash leaves the old position
 * or the new one, never half of one.
 */
export class AuditCursorFile {
  constructor(readonly path: string) {}

  /** The stored position, undefined when there is no file yet; a file that holds no position is an error naming it. */
  async read(): Promise<AuditPosition | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        await this.checkFolder();
        return undefined;
      }
      if (code === 'EISDIR') throw new Error(`Cannot use the cursor file ${this.path}: it is a folder`);
      throw new Error(`Cannot read the cursor file ${this.path}: ${(error as Error).message}`);
    }
    const position = text.length <= MAX_CURSOR_BYTES ? parsePosition(text) : undefined;
    if (position === undefined) {
      throw new Error(
        `The cursor file ${this.path} does not hold a position written by export-audit-log ` +
          '({"occurred_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "id": "<uuid>"}): restore it, or remove it to start from --since (or the beginning)',
      );
    }
    return position;
  }

  async write(position: AuditPosition): Promise<void> {
    const text = `${JSON.stringify({ occurred_at: position.occurredAt, id: position.id })}\n`;
    await writeFileAtomically(this.path, (write) => write(text));
  }

  /** A cursor that cannot be stored is found at start, not after the first batch is already out. */
  private async checkFolder(): Promise<void> {
    const folder = dirname(resolve(this.path));
    await access(folder, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      throw new Error(cannotWrite(this.path, folder, error));
    });
  }
}

function parsePosition(text: string): AuditPosition | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { occurred_at: occurredAt, id } = value as Record<string, unknown>;
  if (typeof occurredAt !== 'string' || !EXACT_TIME.test(occurredAt) || readInstant(occurredAt) === null) return undefined;
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) return undefined;
  return { occurredAt, id: id.toLowerCase() };
}
