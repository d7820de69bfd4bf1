import { InvalidOptionValue } from './cli-errors.js';

const WHOLE_NUMBER = /^\d+$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A date, a time (seconds and fraction optional) and a zone: Z or ±hh:mm. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** A whole number >= min, for --hours and --limit. */
export function parseWholeNumber(value: string, min: number, example: string): number {
  const number = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min) {
    throw new InvalidOptionValue(`Give a whole number of at least ${min}, e.g. ${example}.`);
  }
  return number;
}

/**
 * `2026-01-01` (midnight UTC) or an ISO 8601 date-time with its zone (`2026-01-01T12:00:00Z`,
 * `2026-01-01T12:00:00+02:00`). A time without a zone is refused rather than read in the local zone.
 */
export function parseInstant(value: string, option: string): Date {
  const dateOnly = DATE_ONLY.exec(value);
  const dateTime = DATE_TIME.exec(value);
  const parts = dateOnly ?? dateTime;
  const instant = dateOnly ? new Date(`${value}T00:00:00Z`) : new Date(value);
  // Date accepts 2026-02-30 as March 2nd; a real calendar date reads back the same day.
  const [, year, month, day] = parts ?? [];
  const sameDay =
    parts !== null &&
    !Number.isNaN(instant.getTime()) &&
    isCalendarDate(Number(year), Number(month), Number(day));
  if (!sameDay) {
    throw new InvalidOptionValue(
      `Give a date (${option} 2026-01-01, meaning midnight UTC) or a date-time with its zone (${option} 2026-01-01T12:00:00Z).`,
    );
  }
  return instant;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
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

const EVENT_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

/** An audit action or its prefix (`provision`, `provision_jit`, `cleanup`), case-insensitive. */
export function parseEventType(value: string): string {
  const eventType = value.trim().toLowerCase();
  if (!EVENT_TYPE.test(eventType)) {
    throw new InvalidOptionValue('Give an action such as provision, provision_jit, replace, delete, sync or cleanup.');
  }
  return eventType;
}
