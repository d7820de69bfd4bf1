import { EVENT_TYPE_EXAMPLES, EVENT_TYPE_PATTERN } from '../audit/audit-filter.rules.js';
import { readInstant } from '../common/instant.js';
import { InvalidOptionValue } from './cli-errors.js';

const WHOLE_NUMBER = /^\d+$/;
const DECIMAL_NUMBER = /^\d+(\.\d+)?$/;

/** A whole number >= min, for --hours and --limit. */
export function parseWholeNumber(value: string, min: number, example: string): number {
  const number = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min) {
    throw new InvalidOptionValue(`Give a whole number of at least ${min}, e.g. ${example}.`);
  }
  return number;
}

/** A number of seconds within `range`, fractions allowed (`0.5`), for pauses such as --interval. */
export function parseSeconds(value: string, range: { min: number; max: number }, example: string): number {
  const seconds = DECIMAL_NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= range.min && seconds <= range.max)) {
    throw new InvalidOptionValue(`Give a number of seconds from ${range.min} to ${range.max}, e.g. ${example}.`);
  }
  return seconds;
}

/** `2026-01-01` (midnight UTC) or an ISO 8601 date-time with its zone: see readInstant. */
export function parseInstant(value: string, option: string): Date {
  const instant = readInstant(value);
  if (instant === null) {
    throw new InvalidOptionValue(
      `Give a date (${option} 2026-01-01, meaning midnight UTC) or a date-time with its zone (${option} 2026-01-01T12:00:00Z).`,
    );
  }
  return instant;
}

/** As parseInstant, for a cut-off: an instant after now is refused. */
export function parsePastInstant(value: string, option: string, now: Date = new Date()): Date {
  const instant = parseInstant(value, option);
  if (instant.getTime() > now.getTime()) {
    throw new InvalidOptionValue(`The cut-off must not be in the future: give a date that has passed, e.g. ${option} 2026-01-01.`);
  }
  return instant;
}

/** One of `choices`, exactly as written. */
export function parseChoice<T extends string>(value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new InvalidOptionValue(`Choose one of: ${choices.join(', ')}.`);
  }
  return value as T;
}

/** Any text that is not blank (a user name, a subject). */
export function parseNonBlank(value: string, what: string): string {
  if (value.trim() === '') throw new InvalidOptionValue(`Give ${what}.`);
  return value;
}

/** An audit action or its prefix (`provision`, `provision_jit`, `cleanup`), case-insensitive. */
export function parseEventType(value: string): string {
  const eventType = value.trim().toLowerCase();
  if (!EVENT_TYPE_PATTERN.test(eventType)) {
    throw new InvalidOptionValue(`Give an action such as ${EVENT_TYPE_EXAMPLES}.`);
  }
  return eventType;
}
