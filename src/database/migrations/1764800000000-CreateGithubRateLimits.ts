import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateGithubRateLimits1764800000000 implements MigrationInterface {
  name = 'CreateGithubRateLimits1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "github_rate_limits" (
        "app_id" character varying(64) NOT NULL,
        "blocked_until" TIMESTAMP WITH TIME ZONE NOT NULL,
        "remaining" integer,
        "reset_at" TIMESTAMP WITH TIME ZONE,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_github_rate_limits" PRIMARY KEY ("app_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "github_rate_limits"`);
  }
}
