/**
 * A bad option value. Commander recognises the code: it prints "error: option '--hours <n>' argument
 * 'abc' is invalid. <message>" and exits through the CLI's handler, which makes it bad usage (exit 2).
 * (Commander's own InvalidArgumentError is the same thing; commander is not a direct dependency.)
 */
export class InvalidOptionValue extends Error {
  readonly code = 'commander.invalidArgument';

  constructor(message: string) {
    super(message);
    this.name = 'InvalidOptionValue';
  }
}

/** The command ran and reported what happened, but part of the work failed: exit 1. */
export class CommandFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailedError';
  }
}

/**
 * Bad usage found once the options are read together (e.g. two selectors that exclude each other):
 * exit 2, like commander's own usage errors, with the message on stderr.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command has printed its answer, and the answer is no (check-policy: invalid, or denied): exit 1, nothing more to say. */
export class NegativeAnswer extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NegativeAnswer';
  }
}

/**
 * Another instance (the scheduler of a running service, or another operator's CLI) holds the job's
 * lease: the command did nothing and said who holds it until when. Exit 75 (EX_TEMPFAIL: try again later).
 */
export class LeaseHeldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseHeldError';
  }
}

/**
 * The command was asked to stop (Ctrl-C, SIGTERM, or it lost its lease) and stopped between two
 * batches; it printed what it did. Exit 130.
 */
export class StoppedEarlyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoppedEarlyError';
  }
}
