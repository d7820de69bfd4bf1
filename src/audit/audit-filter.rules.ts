/** The rules of the audit trail's filters, shared by the CLI's export and the admin API. */

/** An audit action or its prefix before `_` (`provision` also matches `provision_jit`), lower-case. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const EVENT_TYPE_EXAMPLES = 'provision, provision_jit, replace, delete, sync, cleanup, suspend or resume';
