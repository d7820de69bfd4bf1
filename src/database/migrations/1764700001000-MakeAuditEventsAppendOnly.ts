import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * audit_events becomes append-only: one statement trigger refuses UPDATE, DELETE and TRUNCATE,
 * whoever runs them. The one way to remove events is prune_audit_events(cut_off), a SECURITY DEFINER
 * function whose EXECUTE right is granted separately (revoked from PUBLIC here).
 *
 * The trigger lets a DELETE through only while prune_audit_events runs: the function sets
 * rts.pruning_audit_events around its DELETE, and it runs as its owner, the table's owner. Any
 * session can set the setting, but a DELETE it runs itself has current_user = its own role, which
 * is refused unless that role owns the table. The table's owner (and a superuser) can drop the
 * trigger anyway: the protection holds against a service role that does not own the schema.
 */
export class MakeAuditEventsAppendOnly1764700001000 implements MigrationInterface {
  name = 'MakeAuditEventsAppendOnly1764700001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const [{ schema }]: { schema: string }[] = await queryRunner.query(`SELECT quote_ident(current_schema()) AS "schema"`);
    await queryRunner.query(`
      CREATE FUNCTION "refuse_audit_event_changes"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE'
           AND current_setting('rts.pruning_audit_events', true) = 'on'
           AND (SELECT relowner FROM pg_catalog.pg_class WHERE oid = TG_RELID)
             = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
          RETURN NULL;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % is refused; old events are removed only by prune_audit_events (the prune-audit-log command)', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "TRG_audit_events_append_only"
      BEFORE UPDATE OR DELETE OR TRUNCATE ON "audit_events"
      FOR EACH STATEMENT EXECUTE FUNCTION "refuse_audit_event_changes"()`);
    // The search path is fixed (temporary schema last) so a caller cannot put its own audit_events first.
    await queryRunner.query(`
      CREATE FUNCTION "prune_audit_events"(cut_off timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER
      SET search_path = ${schema}, pg_catalog, pg_temp
      AS $$
      DECLARE
        removed bigint;
      BEGIN
        IF cut_off IS NULL OR cut_off > now() THEN
          RAISE EXCEPTION 'prune_audit_events: the cut-off must be a time that has passed, not %', cut_off
            USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- Transaction-local, and cleared before returning: the rest of the caller's transaction gets no
        -- exception. (A function's own SET clause would do it too, but PostgreSQL 15+ lets only a
        -- superuser attach a custom setting to a function.) A failed DELETE aborts the transaction,
        -- or the savepoint, which rolls the setting back with it.
        PERFORM set_config('rts.pruning_audit_events', 'on', true);
        DELETE FROM audit_events WHERE occurred_at < cut_off;
        GET DIAGNOSTICS removed = ROW_COUNT;
        PERFORM set_config('rts.pruning_audit_events', '', true);
        RETURN removed;
      END
      $$`);
    await queryRunner.query(`REVOKE EXECUTE ON FUNCTION "prune_audit_events"(timestamptz) FROM PUBLIC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION "prune_audit_events"(timestamptz)`);
    await queryRunner.query(`DROP TRIGGER "TRG_audit_events_append_only" ON "audit_events"`);
    await queryRunner.query(`DROP FUNCTION "refuse_audit_event_changes"()`);
  }
}
