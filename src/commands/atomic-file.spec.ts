import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-file.js';
import { writeJsonArray } from './json-array.js';

async function* items<T>(...values: T[]): AsyncGenerator<T> {
  for (const value of values) yield value;
}

describe('writeFileAtomically', () => {
  let folder: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'rts-atomic-'));
  });

  it('writes the whole text, readable by the owner only', async () => {
    const file = join(folder, 'out.json');
    const big = 'x'.repeat(200_000);
    const result = await writeFileAtomically(file, async (write) => {
      await write('start:');
      await write(big);
      await write(':end');
      return 42;
    });
    expect(result).toBe(42);
    expect(readFileSync(file, 'utf8')).toBe(`start:${big}:end`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(folder)).toEqual(['out.json']);
  });

  it('leaves an existing file as it was, and no temporary file, when the writer fails halfway', async () => {
    const file = join(folder, 'out.json');
    writeFileSync(file, 'the previous export');
    const failing = writeFileAtomically(file, async (write) => {
      await write('x'.repeat(100_000));
      throw new Error('the database went away');
    });
    await expect(failing).rejects.toThrow('the database went away');
    expect(readFileSync(file, 'utf8')).toBe('the previous export');
    expect(readdirSync(folder)).toEqual(['out.json']);
  });

  it('says when the target is a folder', async () => {
    await expect(writeFileAtomically(folder, async (write) => write('x'))).rejects.toThrow(`Cannot write ${folder}: it is a folder`);
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe('writeJsonArray', () => {
  it('writes what JSON.stringify(items, null, 2) would, one item at a time', async () => {
    const values = [{ a: 1, nested: { text: 'line\nbreak', list: [1, 2] } }, { b: null }, 'plain'];
    const chunks: string[] = [];
    const count = await writeJsonArray(items(...values), async (chunk) => {
      chunks.push(chunk);
    });
    expect(count).toBe(3);
    expect(chunks.join('')).toBe(`${JSON.stringify(values, null, 2)}\n`);
    expect(chunks.length).toBe(4);
  });

  it('writes [] for no items', async () => {
    let text = '';
    expect(await writeJsonArray(items(), async (chunk) => void (text += chunk))).toBe(0);
    expect(text).toBe('[]\n');
  });
});
