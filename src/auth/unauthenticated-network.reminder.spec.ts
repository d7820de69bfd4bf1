import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import {
  UNAUTHENTICATED_NETWORK_REMINDER_MS,
  UNAUTHENTICATED_NETWORK_WARNING,
  UnauthenticatedNetworkReminder,
} from './unauthenticated-network.reminder.js';

function configFor(host: string, authEnabled: boolean): AppConfig {
  return { app: { host }, auth: { enabled: authEnabled } } as AppConfig;
}

describe('UnauthenticatedNetworkReminder', () => {
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
    const reminder = new UnauthenticatedNetworkReminder(configFor('0.0.0.0', false));
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
  ])('says nothing %s', (_case, config) => {
    new UnauthenticatedNetworkReminder(config).onApplicationBootstrap();
    jest.advanceTimersByTime(UNAUTHENTICATED_NETWORK_REMINDER_MS);
    expect(warn).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });
});
