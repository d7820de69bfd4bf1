import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddGithubRunnerIdFloorToRunners1764700000000 implements MigrationInterface {
  name = 'AddGithubRunnerIdFloorToRunners1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The highest GitHub runner id known when a registration token was issued: GitHub's ids only
    // grow, so a runner at or below it existed before the token. Null for JIT rows and older rows.
    await queryRunner.query(`ALTER TABLE "runners" ADD "github_runner_id_floor" bigint`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "runners" DROP COLUMN "github_runner_id_floor"`);
  }
}
