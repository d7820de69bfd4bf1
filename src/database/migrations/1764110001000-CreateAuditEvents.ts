import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditEvents1764110001000 implements MigrationInterface {
  name = 'CreateAuditEvents1764110001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "audit_events" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "actor" text NOT NULL,
        "actor_issuer" text NOT NULL,
        "actor_subject" text NOT NULL,
        "action" character varying(64) NOT NULL,
        "outcome" character varying(16) NOT NULL,
        "runner_id" uuid,
        "runner_name" character varying(64),
        "request_id" text,
        "source_ip" text,
        "details" jsonb NOT NULL,
        CONSTRAINT "CHK_audit_events_outcome" CHECK ("outcome" IN ('attempted', 'succeeded', 'denied', 'failed')),
        CONSTRAINT "PK_audit_events" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_occurred_at" ON "audit_events" ("occurred_at")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_actor_subject" ON "audit_events" ("actor_subject")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_runner_id" ON "audit_events" ("runner_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
