import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Actor } from '../auth/actor.js';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { GithubClient } from '../github/github.client.js';
import type { CleanupOptions, CleanupReport, SyncOptions, SyncReport } from './reconciliation.types.js';
import { RunnersRepository } from './runners.repository.js';

/**
 * Keeps the runners table in step with GitHub: `syncWithGithub` (scheduled, and `sync-github`) and
 * `cleanupStaleRunners` (scheduled, and `cleanup-stale-runners`). Only runners this service created
 * are ever touched.
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger(ReconciliationService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runners: RunnersRepository,
    private readonly audit: AuditService,
    private readonly github: GithubClient,
  ) {}

  async syncWithGithub(_actor: Actor, _options: SyncOptions = {}): Promise<SyncReport> {
    throw new Error('not built yet');
  }

  async cleanupStaleRunners(_actor: Actor, _options: CleanupOptions): Promise<CleanupReport> {
    throw new Error('not built yet');
  }
}
