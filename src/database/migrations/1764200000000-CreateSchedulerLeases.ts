import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSchedulerLeases1764200000000 implements MigrationInterface {
  name = 'CreateSchedulerLeases1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "scheduler_leases" (
        "job" character varying(64) NOT NULL,
        "holder" text,
        "leased_until" TIMESTAMP WITH TIME ZONE NOT NULL,
        "last_started_at" TIMESTAMP WITH TIME ZONE,
        "last_finished_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_scheduler_leases" PRIMARY KEY ("job")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "scheduler_leases"`);
  }
}
