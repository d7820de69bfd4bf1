import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TrackRunnerJobsAndWebhookDeliveries1764800003000 implements MigrationInterface {
  name = 'TrackRunnerJobsAndWebhookDeliveries1764800003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The last job GitHub's workflow_job webhook said each runner took, and whether the runner must
    // go once GitHub lets us remove it (a bind_to_run runner that took another run's job).
    await queryRunner.query(`
      ALTER TABLE "runners"
        ADD "job_repository" text,
        ADD "job_run_id" bigint,
        ADD "job_run_attempt" integer,
        ADD "job_id" bigint,
        ADD "job_conclusion" character varying(32),
        ADD "removal_reason" character varying(32)`);
    // Every webhook event names its runner by GitHub id.
    await queryRunner.query(`CREATE INDEX "IDX_runners_github_runner_id" ON "runners" ("github_runner_id")`);
    await queryRunner.query(`
      CREATE TABLE "webhook_deliveries" (
        "delivery_id" character varying(100) NOT NULL,
        "event" character varying(64) NOT NULL,
        "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY ("delivery_id")
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_webhook_deliveries_received_at" ON "webhook_deliveries" ("received_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP INDEX "IDX_runners_github_runner_id"`);
    await queryRunner.query(`
      ALTER TABLE "runners"
        DROP COLUMN "removal_reason",
        DROP COLUMN "job_conclusion",
        DROP COLUMN "job_id",
        DROP COLUMN "job_run_attempt",
        DROP COLUMN "job_run_id",
        DROP COLUMN "job_repository"`);
  }
}
