/** Input rules for runners, shared by the DTOs, their messages and the OpenAPI description. */
export const RUNNER_NAME_MAX_LENGTH = 64;
export const RUNNER_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;
export const RUNNER_NAME_RULE = `at most ${RUNNER_NAME_MAX_LENGTH} characters of A-Z a-z 0-9 . _ -`;
/** The prefix gets "-" and 6 hex characters. */
export const NAME_SUFFIX_HEX_LENGTH = 6;
export const RUNNER_NAME_PREFIX_MAX_LENGTH = RUNNER_NAME_MAX_LENGTH - 1 - NAME_SUFFIX_HEX_LENGTH;
export const RUNNER_NAME_PREFIX_RULE = `at most ${RUNNER_NAME_PREFIX_MAX_LENGTH} characters of A-Z a-z 0-9 . _ - (a "-" and ${NAME_SUFFIX_HEX_LENGTH} hex characters are added)`;

/** GitHub accepts 1 to 100 labels on a JIT runner. */
export const MAX_LABELS = 100;
export const LABEL_MAX_LENGTH = 256;
/** No comma or space: `config.sh --labels` joins labels with commas. */
export const LABEL_PATTERN = /^[a-z0-9._:/-]+$/;
export const LABEL_RULE = `1 to ${MAX_LABELS} labels, each at most ${LABEL_MAX_LENGTH} characters of letters, digits and . _ - : /`;

export const WORK_FOLDER_MAX_LENGTH = 256;
export const WORK_FOLDER_PATTERN = /^(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/-]+$/;
export const WORK_FOLDER_RULE = `at most ${WORK_FOLDER_MAX_LENGTH} characters of A-Z a-z 0-9 . _ - / without ".." segments`;
export const DEFAULT_WORK_FOLDER = '_work';

/** Trims, lower-cases (GitHub labels are case-insensitive) and de-duplicates, keeping the first place. */
export function normaliseLabels(labels: unknown): unknown {
  if (!Array.isArray(labels)) return labels;
  const normalised = labels.map((label) => (typeof label === 'string' ? label.trim().toLowerCase() : label));
  return [...new Set(normalised)];
}
