import { CreateRunners1764110000000 } from './1764110000000-CreateRunners.js';
import { CreateAuditEvents1764110001000 } from './1764110001000-CreateAuditEvents.js';
import { CreateSchedulerLeases1764200000000 } from './1764200000000-CreateSchedulerLeases.js';
import { AddPolicyRuleToRunners1764600000000 } from './1764600000000-AddPolicyRuleToRunners.js';
import { CreateSuspensions1764600001000 } from './1764600001000-CreateSuspensions.js';
import { AddGithubRunnerIdFloorToRunners1764700000000 } from './1764700000000-AddGithubRunnerIdFloorToRunners.js';
import { MakeAuditEventsAppendOnly1764700001000 } from './1764700001000-MakeAuditEventsAppendOnly.js';
import { CreateGithubRateLimits1764800000000 } from './1764800000000-CreateGithubRateLimits.js';
import { AddDeletionReasonToRunners1764800001000 } from './1764800001000-AddDeletionReasonToRunners.js';
import { CreateForeignRunners1764800001500 } from './1764800001500-CreateForeignRunners.js';
import { TrackRunnerJobsAndWebhookDeliveries1764800003000 } from './1764800003000-TrackRunnerJobsAndWebhookDeliveries.js';

/** Listed explicitly (not globbed) so the same list works from src/ under jest and from dist/. */
export const MIGRATIONS = [
  CreateRunners1764110000000,
  CreateAuditEvents1764110001000,
  CreateSchedulerLeases1764200000000,
  AddPolicyRuleToRunners1764600000000,
  CreateSuspensions1764600001000,
  AddGithubRunnerIdFloorToRunners1764700000000,
  MakeAuditEventsAppendOnly1764700001000,
  CreateGithubRateLimits1764800000000,
  AddDeletionReasonToRunners1764800001000,
  CreateForeignRunners1764800001500,
  TrackRunnerJobsAndWebhookDeliveries1764800003000,
];
