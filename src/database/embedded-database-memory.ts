import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type SetV8Flags, setUnlessGiven } from '../common/v8-flags.js';

const WASM_COMPILER_ON_COMMAND_LINE = /^--(no-)?(liftoff|liftoff-only|wasm-tier-up|wasm-dynamic-tiering)(=|$)/;

/**
 * The embedded database is PostgreSQL compiled to WebAssembly (a 9 MB module). V8 compiles it with
 * its baseline compiler, then compiles the busy functions again with its optimising one and keeps
 * both. With the baseline code only, the demo after 1,000 JITs measured 322 MiB RSS instead of
 * 402 MiB, at the same throughput (docs/PERFORMANCE.md). V8 reads the setting when it compiles the
 * module, so this must run before the database starts. An operator's own flag on the command line
 * wins. Returns whether it set the flag.
 */
export function compileEmbeddedDatabaseOnce(execArgv?: readonly string[], setFlags?: SetV8Flags): boolean {
  return setUnlessGiven('--liftoff-only', WASM_COMPILER_ON_COMMAND_LINE, execArgv, setFlags);
}

/**
 * One full garbage collection. Starting the embedded database leaves a few hundred MB of buffers
 * behind (its set-up copies the database's whole memory), and V8 may not collect them for a while:
 * the demo was seen at 650 MiB RSS when it first answered, and at 390 MiB a second later.
 */
export async function collectGarbageNow(): Promise<void> {
  // `gc` exists only in contexts made while --expose-gc is on; this process's own is not one.
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  v8.setFlagsFromString('--no-expose-gc');
  // The database's start holds its buffers until the current turn of the event loop ends.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}
