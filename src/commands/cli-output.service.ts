import { once } from 'node:events';
import { fsync } from 'node:fs';
import { promisify } from 'node:util';
import { syncIfPossible } from './durable-write.js';

/** Space between table columns. */
const COLUMN_GAP = '  ';
/**
 * Control characters (newlines, escape sequences) in a value would break the table or drive the
 * terminal; owner names come from OIDC claims, so they are not trusted to be clean.
 */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * What CLI commands print: results on stdout (lines and tables for people, JSON with --json),
 * progress and errors on stderr, so `--json` output can be piped as it is.
 */
export class CliOutput {
  json(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text = ''): void {
    process.stdout.write(`${text}\n`);
  }

  /**
   * Aligned columns under a header row; `empty` is printed instead when there are no rows. The last
   * column is not padded, so a long last value (labels) does not widen the others.
   */
  table(headers: string[], rows: string[][], empty = 'Nothing to show.'): void {
    if (rows.length === 0) {
      this.line(empty);
      return;
    }
    const cells = rows.map((row) => row.map((cell) => cell.replace(CONTROL_CHARACTERS, '?')));
    const widths = headers.map((header, column) => Math.max(header.length, ...cells.map((row) => (row[column] ?? '').length)));
    const format = (row: string[]) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
        .join(COLUMN_GAP)
        .trimEnd();
    this.line(format(headers));
    for (const row of cells) this.line(format(row));
  }

  /** A progress line for long work, on stderr. */
  progress(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  /** Raw text on stdout, waiting while the reader is behind (a large export into a pipe). */
  async write(chunk: string): Promise<void> {
    if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
  }

  /**
   * Raw text on stdout, resolved once it has left the process and, when stdout is a file
   * (`>> audit.ndjson`), reached the disk: what may be counted as written.
   */
  async writeDurably(chunk: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
    await syncIfPossible(() => promisify(fsync)(process.stdout.fd));
  }
}
