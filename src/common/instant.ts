/**
 * An instant as people write it on a command line or in a query string: `2026-01-01` (midnight
 * UTC) or an ISO 8601 date-time with its zone (`2026-01-01T12:00:00Z`, `2026-01-01T12:00:00+02:00`).
 * A time without a zone is refused rather than read in some local zone.
 */
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A date, a time (seconds and fraction optional) and a zone: Z or ±hh:mm. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** The instant `value` names, or null when it is not one of the accepted forms or not a real date. */
export function readInstant(value: string): Date | null {
  const dateOnly = DATE_ONLY.exec(value);
  const parts = dateOnly ?? DATE_TIME.exec(value);
  if (parts === null) return null;
  const instant = dateOnly ? new Date(`${value}T00:00:00Z`) : new Date(value);
  // Date accepts 2026-02-30 as March 2nd; a real calendar date reads back the same day.
  const [, year, month, day] = parts;
  if (Number.isNaN(instant.getTime()) || !isCalendarDate(Number(year), Number(month), Number(day))) return null;
  return instant;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
