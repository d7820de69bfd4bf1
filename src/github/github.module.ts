import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GithubBudget } from './github-budget.service.js';
import { GithubRateLimitEntity } from './github-rate-limit.entity.js';
import { GithubRateLimitsRepository } from './github-rate-limits.repository.js';
import { GithubClient } from './github.client.js';

/** The one client to GitHub, and GitHub's rate-limit budget that every instance shares. */
@Module({
  imports: [TypeOrmModule.forFeature([GithubRateLimitEntity])],
  providers: [GithubRateLimitsRepository, GithubBudget, GithubClient],
  exports: [GithubClient, GithubBudget],
})
export class GithubModule {}
