/** Policy files for e2e tests: written to a fresh temporary folder, removed with it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PolicyFile {
  path: string;
  /** Replaces the file's content (a reload picks it up). */
  write(yaml: string): void;
  remove(): void;
}

export function writePolicyFile(yaml: string): PolicyFile {
  const folder = mkdtempSync(join(tmpdir(), 'rts-policy-'));
  const path = join(folder, 'policy.yaml');
  writeFileSync(path, yaml);
  return {
    path,
    write: (content: string) => writeFileSync(path, content),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}
