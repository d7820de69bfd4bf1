import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { AppConfig } from './app-config.js';
import {
  TRUST_PROXY_WARNING,
  UNAUTHENTICATED_NETWORK_REMINDER_MS,
  UNAUTHENTICATED_NETWORK_WARNING,
  UnsafeSettingsWarnings,
} from './unsafe-settings.warnings.js';

function configFor(host: string, authEnabled: boolean, trustProxy: AppConfig['app']['trustProxy'] = false): AppConfig {
  return { app: { host, trustProxy }, auth: { enabled: authEnabled } } as AppConfig;
}

describe('UnsafeSettingsWarnings', () => {
  let warn: jest.SpiedFunction<Logger['warn']>;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    warn.mockRestore();
    jest.useRealTimers();
  });

  it('warns at start and every hour while listening off loopback without authentication, and stops on shutdown', () => {
    const reminder = new UnsafeSettingsWarnings(configFor('0.0.0.0', false));
    reminder.onApplicationBootstrap();
    expect(warn.mock.calls).toEqual([[UNAUTHENTICATED_NETWORK_WARNING]]);

    jest.advanceTimersByTime(2 * UNAUTHENTICATED_NETWORK_REMINDER_MS);
    expect(warn).toHaveBeenCalledTimes(3);

    reminder.onApplicationShutdown();
    jest.advanceTimersByTime(2 * UNAUTHENTICATED_NETWORK_REMINDER_MS);
    expect(warn).toHaveBeenCalledTimes(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it.each([
    ['on loopback without authentication', configFor('127.0.0.1', false)],
    ['off loopback with authentication', configFor('0.0.0.0', true)],
    ['behind a proxy trusted by hop count', configFor('0.0.0.0', true, 1)],
  ])('says nothing %s', (_case, config) => {
    new UnsafeSettingsWarnings(config).onApplicationBootstrap();
    jest.advanceTimersByTime(UNAUTHENTICATED_NETWORK_REMINDER_MS);
    expect(warn).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('warns once at start that TRUST_PROXY=true lets any client forge the audited source IP', () => {
    new UnsafeSettingsWarnings(configFor('0.0.0.0', true, true)).onApplicationBootstrap();
    jest.advanceTimersByTime(UNAUTHENTICATED_NETWORK_REMINDER_MS);
    expect(warn.mock.calls).toEqual([[TRUST_PROXY_WARNING]]);
  });
});
