import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRunners1764110000000 implements MigrationInterface {
  name = 'CreateRunners1764110000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "runners" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" character varying(64) NOT NULL,
        "kind" character varying(32) NOT NULL,
        "status" character varying(16) NOT NULL,
        "busy" boolean NOT NULL DEFAULT false,
        "ephemeral" boolean NOT NULL,
        "labels" text array NOT NULL,
        "runner_group_id" integer NOT NULL,
        "github_runner_id" bigint,
        "owner_issuer" text NOT NULL,
        "owner_subject" text NOT NULL,
        "owner_name" text NOT NULL,
        "failure_code" character varying(64),
        "failure_reason" text,
        "expires_at" TIMESTAMP WITH TIME ZONE,
        "last_seen_at" TIMESTAMP WITH TIME ZONE,
        "deleted_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "CHK_runners_kind" CHECK ("kind" IN ('jit', 'registration_token')),
        CONSTRAINT "CHK_runners_status" CHECK ("status" IN ('pending', 'active', 'offline', 'deleted', 'failed')),
        CONSTRAINT "PK_runners" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_runners_status" ON "runners" ("status")`);
    await queryRunner.query(
      `CREATE INDEX "IDX_runners_owner_created_at" ON "runners" ("owner_issuer", "owner_subject", "created_at")`,
    );
    // GitHub names are unique per org; a deleted or failed runner gives its name back.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_runners_name_active" ON "runners" ("name") WHERE "status" NOT IN ('deleted', 'failed')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "runners"`);
  }
}
