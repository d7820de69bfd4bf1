/**
 * What CLI commands print: results on stdout (a table for people, JSON with --json), messages on
 * stderr. The one place in src that writes to the terminal directly.
 */
export class CliOutput {
  json(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text = ''): void {
    process.stdout.write(`${text}\n`);
  }

  /** A plain-text table: a header row, a rule, one row per record. */
  table(columns: string[], rows: (string | number | boolean | null | undefined)[][]): void {
    const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))));
    const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]?.length ?? 0)));
    const format = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
    this.line(format(columns));
    this.line(format(widths.map((width) => '-'.repeat(width))));
    for (const row of cells) this.line(format(row));
  }

  error(text: string): void {
    process.stderr.write(`${text}\n`);
  }
}
