/**
 * A TCP proxy between the service under test and PostgreSQL that a test can cut and restore, to
 * play a database outage without touching the shared server. Three kinds of outage:
 *  - `refuse`: every connection is closed and the port stops listening (the server is down);
 *  - `hang`: every connection is closed, new ones are accepted and never answered (a firewall that
 *    drops packets, a host that vanished);
 *  - `stall`: connections stay open but nothing gets through either way, and new ones hang (a
 *    network partition: what makes a client wait on a query forever).
 * On restore, connections accepted or stalled during the outage are closed: what was sent on them
 * was dropped, so they could never carry on.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export type OutageKind = 'refuse' | 'hang' | 'stall';

interface Link {
  client: Socket;
  upstream: Socket | null;
}

export class TcpProxy {
  private readonly links = new Set<Link>();
  private outage: OutageKind | null = null;
  private server: Server;
  /** Connections accepted since start, for the report. */
  accepted = 0;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  /** Listens on an ephemeral port of 127.0.0.1 and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {};
    const server = createServer((client) => holder.proxy?.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new TcpProxy(target, (server.address() as AddressInfo).port, server);
    return holder.proxy;
  }

  /** `url` (a postgres:// URL) with its host and port replaced by the proxy's. */
  proxiedUrl(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Starts an outage of the given kind. */
  async cut(kind: OutageKind): Promise<void> {
    if (this.outage) throw new Error(`The proxy is already cut (${this.outage})`);
    this.outage = kind;
    if (kind !== 'stall') for (const link of this.links) this.close(link);
    if (kind === 'refuse') await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Ends the outage: the port listens and forwards again (the same port, as a restarted server would). */
  async restore(): Promise<void> {
    const kind = this.outage;
    if (!kind) return;
    for (const link of this.links) this.close(link);
    this.outage = null;
    if (kind === 'refuse') {
      this.server = createServer((client) => this.accept(client));
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.port, '127.0.0.1', () => resolve());
      });
    }
  }

  async stop(): Promise<void> {
    for (const link of this.links) this.close(link);
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    const link: Link = { client, upstream: null };
    this.links.add(link);
    client.on('error', () => this.close(link));
    client.on('close', () => this.close(link));
    // Accepted during an outage: held open, never answered, closed on restore.
    if (this.outage) return;
    const upstream = connect(this.target.port, this.target.host);
    link.upstream = upstream;
    upstream.on('error', () => this.close(link));
    upstream.on('close', () => this.close(link));
    // Forwarded by hand rather than piped, so a stall can drop what is sent without closing anything.
    client.on('data', (chunk) => {
      if (!this.outage) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.outage) client.write(chunk);
    });
  }

  private close(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.destroy();
    link.upstream?.destroy();
  }
}
