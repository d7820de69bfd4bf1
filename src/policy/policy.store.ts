import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { loadPolicy, parsePolicy, type PolicyLoadOptions, policyLoadOptions, readPolicyFile } from './policy.loader.js';
import type { Policy } from './policy.types.js';

/** Editors write a file in several steps (truncate, write, rename): reload once they are done. */
export const RELOAD_DEBOUNCE_MS = 250;

/** Where the policy in force came from, and whether the last reload failed (for readiness details). */
export interface PolicyStatus {
  /** POLICY_FILE; null without one. */
  source: string | null;
  loadedAt: Date;
  /** The last reload that failed, if none succeeded since: the old policy stayed in force. */
  lastReloadError?: { at: Date; message: string };
}

/** What a reload did: replaced the policy, found the file unchanged, or failed and kept the old one. */
export type ReloadOutcome = { result: 'reloaded' } | { result: 'unchanged' } | { result: 'failed'; message: string };

/**
 * Holds the policy in force. Loads it at construction, so a bad POLICY_FILE stops the start with the
 * loader's message; then reloads it on SIGHUP and when the file changes. A reload that fails keeps the
 * old policy, logs why, and shows in status().
 */
@Injectable()
export class PolicyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PolicyStore.name);
  private readonly options: PolicyLoadOptions;
  private policy: Policy;
  private startWarnings: string[];
  /** The text of the last file read, good or bad: a change event with the same text is no change. */
  private lastText: string | null;
  private lastReloadError?: { at: Date; message: string };
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private readonly onSighup = () => {
    this.logger.log(`SIGHUP: reloading the policy from ${this.options.file}`);
    this.reload();
  };

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.options = policyLoadOptions(config.auth);
    const loaded = loadPolicy(this.options);
    this.policy = loaded.policy;
    this.startWarnings = loaded.warnings;
    this.lastText = loaded.text;
  }

  onModuleInit(): void {
    for (const warning of this.startWarnings) this.logger.warn(warning);
    this.startWarnings = [];
    const file = this.options.file;
    if (file === undefined) return;
    this.logger.log(`Policy loaded from ${file}: ${describe(this.policy)}`);
    process.on('SIGHUP', this.onSighup);
    this.watch(file);
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onSighup);
    clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** The policy in force now. Read it per request: a reload replaces it. */
  current(): Policy {
    return this.policy;
  }

  status(): PolicyStatus {
    return {
      source: this.policy.source,
      loadedAt: this.policy.loadedAt,
      ...(this.lastReloadError ? { lastReloadError: { ...this.lastReloadError } } : {}),
    };
  }

  /** Reads POLICY_FILE again (SIGHUP, a change of the file, tests). `onlyIfChanged`: skip when its text is the same. */
  reload(options: { onlyIfChanged?: boolean } = {}): ReloadOutcome {
    const file = this.options.file;
    if (file === undefined) return { result: 'unchanged' };
    try {
      const text = readPolicyFile(file);
      if (options.onlyIfChanged && text === this.lastText) return { result: 'unchanged' };
      // Remembered good or bad: the same bad text again is not worth another warning.
      this.lastText = text;
      const loaded = parsePolicy(text, file, this.options);
      this.policy = loaded.policy;
      this.lastReloadError = undefined;
      for (const warning of loaded.warnings) this.logger.warn(warning);
      this.logger.log(`Policy reloaded from ${file}: ${describe(this.policy)}`);
      return { result: 'reloaded' };
    } catch (error) {
      const message = (error as Error).message;
      this.lastReloadError = { at: new Date(), message };
      this.logger.warn(`Policy reload failed; the policy loaded at ${this.policy.loadedAt.toISOString()} stays in force. ${message}`);
      return { result: 'failed', message };
    }
  }

  /**
   * Watches the file's folder rather than the file: editors and Kubernetes (ConfigMap volumes swap a
   * symlinked folder) replace the file instead of writing into it, which ends a watch on the file.
   * Any event in the folder leads, after a pause, to a read; the text decides whether it changed.
   */
  private watch(file: string): void {
    const folder = dirname(resolve(file));
    try {
      this.watcher = watch(folder, { persistent: false }, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.reload({ onlyIfChanged: true }), RELOAD_DEBOUNCE_MS);
      });
      this.watcher.on('error', (error) => this.logger.warn(`Stopped watching ${folder} for changes of ${basename(file)}: ${error.message}; SIGHUP still reloads`));
    } catch (error) {
      this.logger.warn(`Cannot watch ${folder} for changes of ${basename(file)}: ${(error as Error).message}; SIGHUP still reloads`);
    }
  }
}

function describe(policy: Policy): string {
  const rules = policy.rules ?? [];
  return `${rules.length} rules (${rules.map((rule) => rule.name).join(', ') || 'none'}), issuers ${policy.issuers.map((issuer) => issuer.name).join(', ') || 'none'}`;
}
