/**
 * The cursor of a paginated list (runners, audit events): the base64url of the last row's id,
 * opaque to callers and cheap to check. A page continues strictly after that row.
 */
import { DomainError, ERROR_CODES } from './domain-error.js';
import { UUID_PATTERN } from './text.js';

export const CURSOR_RULE = "cursor must be a previous page's next_cursor, unchanged";

export function encodeCursor(rowId: string): string {
  return Buffer.from(rowId, 'utf8').toString('base64url');
}

/** The row id a cursor continues after; a cursor that is not one of ours is a 400. */
export function decodeCursor(cursor: string): string {
  const rowId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!UUID_PATTERN.test(rowId)) throw invalidCursor();
  return rowId;
}

/**
 * A cursor that is not a previous page's: malformed, unknown, or naming a row the caller may not see,
 * all with one answer so that it reveals nothing about rows of others.
 */
export function invalidCursor(): DomainError {
  return new DomainError(ERROR_CODES.VALIDATION_FAILED, CURSOR_RULE, { violations: [{ field: 'cursor', message: CURSOR_RULE }] });
}

/** The next page as a path with its query: the filters given (in this order), then the cursor. */
export function nextPageLink(path: string, filters: Record<string, string | number | undefined>, cursor: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined) params.set(name, String(value));
  params.set('cursor', cursor);
  return `${path}?${params.toString()}`;
}
