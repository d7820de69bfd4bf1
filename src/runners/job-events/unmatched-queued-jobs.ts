import { Injectable } from '@nestjs/common';

/**
 * Jobs queued for self-hosted runners whose labels no live runner of this service has, counted
 * since the process started: demand nobody here serves, for the dashboard (the metrics read count).
 */
@Injectable()
export class UnmatchedQueuedJobs {
  private total = 0;

  record(): void {
    this.total++;
  }

  get count(): number {
    return this.total;
  }
}
