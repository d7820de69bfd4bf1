/** What CLI commands print on stdout: lines for people, or JSON with --json. Messages go to stderr. */
export class CliOutput {
  json(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text = ''): void {
    process.stdout.write(`${text}\n`);
  }
}
