import v8 from 'node:v8';

/** Sets V8 flags in this process; tests pass a recorder instead (V8's flags are the whole process's). */
export type SetV8Flags = (flags: string) => void;

/**
 * Sets `flag` for this process unless the operator gave a flag matching `givenPattern` on the
 * command line (theirs wins). Returns whether it set it.
 */
export function setUnlessGiven(
  flag: string,
  givenPattern: RegExp,
  execArgv: readonly string[] = process.execArgv,
  setFlags: SetV8Flags = v8.setFlagsFromString,
): boolean {
  if (execArgv.some((argument) => givenPattern.test(argument))) return false;
  setFlags(flag);
  return true;
}
