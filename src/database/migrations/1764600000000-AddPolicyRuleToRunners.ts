import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddPolicyRuleToRunners1764600000000 implements MigrationInterface {
  name = 'AddPolicyRuleToRunners1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The policy rule that allowed the runner; null for runners made without a policy file (and before it).
    await queryRunner.query(`ALTER TABLE "runners" ADD "policy_rule" text`);
    await queryRunner.query(`CREATE INDEX "IDX_runners_policy_rule" ON "runners" ("policy_rule")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_runners_policy_rule"`);
    await queryRunner.query(`ALTER TABLE "runners" DROP COLUMN "policy_rule"`);
  }
}
