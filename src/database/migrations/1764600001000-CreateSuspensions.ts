import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSuspensions1764600001000 implements MigrationInterface {
  name = 'CreateSuspensions1764600001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "suspensions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "issuer" text,
        "subject" text,
        "rule" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "created_by" text NOT NULL,
        "reason" text,
        "remove_runners" boolean NOT NULL DEFAULT false,
        CONSTRAINT "CHK_suspensions_target" CHECK (("issuer" IS NOT NULL AND "subject" IS NOT NULL AND "rule" IS NULL) OR ("issuer" IS NULL AND "subject" IS NULL AND "rule" IS NOT NULL)),
        CONSTRAINT "PK_suspensions" PRIMARY KEY ("id")
      )`);
    // NULLs are distinct in a unique index: rule rows never collide on the identity index, nor identity rows on the rule index.
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_suspensions_identity" ON "suspensions" ("issuer", "subject")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_suspensions_rule" ON "suspensions" ("rule")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "suspensions"`);
  }
}
