import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port that was just free: nothing listens there, so every connection is refused at once. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
