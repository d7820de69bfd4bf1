/** The audit actions of the runners module. */
export const AUDIT_ACTIONS = {
  PROVISION_JIT: 'provision_jit',
  PROVISION: 'provision',
  REPLACE: 'replace',
  REFRESH: 'refresh',
  DELETE: 'delete',
  SYNC: 'sync',
  CLEANUP: 'cleanup',
} as const;
