export type Env = Record<string, string | undefined>;

/** Reads variables and collects every problem instead of stopping at the first. */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  problem(name: string, message: string): void {
    this.problems.push(`${name} ${message}`);
  }

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  integer(name: string, fallback: number, range?: { min?: number; max?: number }): number;
  integer(name: string, fallback: undefined, range?: { min?: number; max?: number }): number | undefined;
  integer(name: string, fallback: number | undefined, range: { min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(name);
    const bounds = [
      range.min !== undefined ? `at least ${range.min}` : '',
      range.max !== undefined ? `at most ${range.max}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    const expectation = `must be a whole number${bounds ? ` ${bounds}` : ''}`;
    if (raw === undefined) {
      if (fallback === undefined) this.problem(name, `is required and ${expectation}`);
      return fallback;
    }
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (
      !Number.isSafeInteger(value) ||
      (range.min !== undefined && value < range.min) ||
      (range.max !== undefined && value > range.max)
    ) {
      this.problem(name, `${expectation} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(raw)) return true;
    if (['false', '0', 'no', 'off'].includes(raw)) return false;
    this.problem(name, `must be true or false (got "${raw}")`);
    return fallback;
  }

  /** An https URL; plain http only to this machine (tests, the demo, the standalone simulator). */
  httpsUrl(name: string, value: string, why: string): void {
    const url = URL.canParse(value) ? new URL(value) : undefined;
    const allowed = url?.protocol === 'https:' || (url?.protocol === 'http:' && isLoopback(url.hostname));
    if (!allowed) {
      this.problem(
        name,
        `must be an https URL, because ${why} (http is accepted only for localhost, 127.0.0.0/8 and [::1]): got "${value}"`,
      );
    }
  }
}

/** WHATWG URL has already normalised the host (127.1 is 127.0.0.1, IPv6 comes bracketed). */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** An address to listen on that only this machine reaches (HOST, as given to listen()). */
export function isLoopbackHost(host: string): boolean {
  return host === '::1' || isLoopback(host);
}
