import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateForeignRunners1764800001500 implements MigrationInterface {
  name = 'CreateForeignRunners1764800001500';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Runners the sync found on GitHub that this service did not issue: remembered, so that each is
    // reported once across syncs and instances, and listed for the operators.
    await queryRunner.query(`
      CREATE TABLE "foreign_runners" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "github_runner_id" bigint NOT NULL,
        "name" text NOT NULL,
        "status" text NOT NULL,
        "busy" boolean NOT NULL,
        "labels" text array NOT NULL,
        "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "gone_at" TIMESTAMP WITH TIME ZONE,
        "removed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_foreign_runners" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_foreign_runners_github_runner_id" ON "foreign_runners" ("github_runner_id")`);
    await queryRunner.query(`CREATE INDEX "IDX_foreign_runners_first_seen_at" ON "foreign_runners" ("first_seen_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "foreign_runners"`);
  }
}
