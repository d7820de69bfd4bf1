import { collectGarbageNow, compileEmbeddedDatabaseOnce } from './embedded-database-memory.js';

describe('compileEmbeddedDatabaseOnce', () => {
  // The flags are recorded, not set: V8's flags are the whole test process's.
  const compile = (execArgv: string[]) => {
    const set: string[] = [];
    compileEmbeddedDatabaseOnce(execArgv, (flags) => set.push(flags));
    return set;
  };

  it("leaves WebAssembly's compilers to an operator who chose them on the command line", () => {
    expect(compile(['--liftoff-only'])).toEqual([]);
    expect(compile(['--inspect', '--no-liftoff-only'])).toEqual([]);
    expect(compile(['--wasm-tier-up'])).toEqual([]);
  });

  it('keeps the baseline compiler only otherwise', () => {
    expect(compile(['--max-old-space-size=512', '--liftoffish'])).toEqual(['--liftoff-only']);
  });
});

describe('collectGarbageNow', () => {
  it('returns the memory of buffers nothing refers to any more', async () => {
    let buffers: ArrayBuffer[] | undefined = Array.from({ length: 8 }, () => new ArrayBuffer(8 * 1024 * 1024));
    const held = process.memoryUsage().arrayBuffers;
    expect(buffers).toHaveLength(8);
    buffers = undefined;

    await collectGarbageNow();

    expect(process.memoryUsage().arrayBuffers).toBeLessThan(held - 48 * 1024 * 1024);
  });
});
