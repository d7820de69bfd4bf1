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
/** No comma or space: `config.sh --labels` joins labels with commas. Checked after lower-casing. */
export const LABEL_PATTERN = /^[a-z0-9._:/-]+$/;
/** What a client may send for one label: any case (the service lower-cases it). */
export const LABEL_INPUT_PATTERN = /^[A-Za-z0-9._:/-]+$/;
export const LABEL_ITEM_RULE = `at most ${LABEL_MAX_LENGTH} characters of letters, digits and . _ - : /`;
export const LABEL_RULE = `1 to ${MAX_LABELS} labels, each ${LABEL_ITEM_RULE}`;
/** A JIT request may send none: the system labels (or bind_to_run's run label) are enough. */
export const JIT_LABEL_RULE = `0 to ${MAX_LABELS} labels, each ${LABEL_ITEM_RULE}`;

export const WORK_FOLDER_MAX_LENGTH = 256;
/** A path relative to the runner's folder: no leading "/", no ".." segment anywhere. */
export const WORK_FOLDER_PATTERN = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._/-]+$/;
export const WORK_FOLDER_RULE = `a relative path of at most ${WORK_FOLDER_MAX_LENGTH} characters of A-Z a-z 0-9 . _ - /, not starting with "/" and without ".." segments`;
export const DEFAULT_WORK_FOLDER = '_work';

/** A registration-token runner is ephemeral unless the caller asks otherwise: one job, then gone. */
export const DEFAULT_EPHEMERAL = true;

/**
 * Trims and lower-cases each label (GitHub labels are case-insensitive), keeping every label in its
 * place so that an error can name the position the caller sent it at. Duplicates are dropped when the
 * runner's label list is built, after the system labels.
 */
export function normaliseLabels(labels: unknown): unknown {
  if (!Array.isArray(labels)) return labels;
  return labels.map((label) => (typeof label === 'string' ? label.trim().toLowerCase() : label));
}

/** A label as an error message quotes it: long ones shortened, so the message stays readable. */
const QUOTED_LABEL_MAX_LENGTH = 40;

/**
 * What is wrong with a normalised label list, or null. Names the first bad label by the position the
 * caller sent it at.
 */
export function describeLabelsProblem(labels: unknown, minimum: 0 | 1 = 1): string | null {
  if (!Array.isArray(labels)) return `labels must be an array of ${minimum} to ${MAX_LABELS} labels`;
  if (labels.length < minimum) return 'labels must hold at least 1 label';
  // Counted as GitHub will see them: a label sent twice is registered once.
  if (new Set(labels).size > MAX_LABELS) return `labels must hold at most ${MAX_LABELS} labels`;
  for (const [index, label] of labels.entries()) {
    if (typeof label !== 'string') return `labels[${index}] must be a string`;
    if (label === '') return `labels[${index}] is empty`;
    if (label.length > LABEL_MAX_LENGTH || !LABEL_PATTERN.test(label)) {
      const quoted = label.length > QUOTED_LABEL_MAX_LENGTH ? `${label.slice(0, QUOTED_LABEL_MAX_LENGTH)}…` : label;
      return `labels[${index}] (${JSON.stringify(quoted)}) must be ${LABEL_ITEM_RULE}`;
    }
  }
  return null;
}
