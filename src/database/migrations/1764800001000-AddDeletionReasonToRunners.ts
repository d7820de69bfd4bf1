import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddDeletionReasonToRunners1764800001000 implements MigrationInterface {
  name = 'AddDeletionReasonToRunners1764800001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Why the service itself marked a runner deleted (never_started, stale, gone_from_github); null
    // when a request deleted it, and for rows deleted before this was recorded.
    await queryRunner.query(`ALTER TABLE "runners" ADD "deletion_reason" character varying(32)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "runners" DROP COLUMN "deletion_reason"`);
  }
}
