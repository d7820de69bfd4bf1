/** The audit actions of the runners module. */
export const AUDIT_ACTIONS = {
  PROVISION_JIT: 'provision_jit',
  /** A registration token and its config.sh command (the action keeps the seed's name). */
  PROVISION_REGISTRATION_TOKEN: 'provision',
  REPLACE: 'replace',
  REFRESH: 'refresh',
  DELETE: 'delete',
  SYNC: 'sync',
  CLEANUP: 'cleanup',
  /** A workflow_job webhook marked a runner deleted (an ephemeral runner finished its job). */
  WEBHOOK: 'webhook',
  /** A bind_to_run runner took a job of another workflow run. */
  RUNNER_HIJACK: 'runner_hijack',
  /** A sync found a runner in the org that this service did not issue, for the first time. */
  FOREIGN_RUNNER: 'foreign_runner',
  /** FOREIGN_RUNNERS=remove removed (or failed to remove) a foreign runner from GitHub. */
  FOREIGN_RUNNER_REMOVED: 'foreign_runner_removed',
} as const;
