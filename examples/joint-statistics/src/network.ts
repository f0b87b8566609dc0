/**
 * TCP wiring for the example: every party listens on a port of its own; party i connects to
 * every party j < i and to the dealer, and introduces itself with a one-byte hello (its index),
 * so the accepting side knows who is on the other end. Messages travel as core's length-prefixed
 * frames (`streamChannel`).
 * @module
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { type Channel, streamChannel, UnseenError } from '@unseen/core';

const TIMEOUT_MS = 20_000;

/** A listening socket and the channels it accepts, keyed by the hello index. */
export class Listener {
  readonly #server: Server;
  readonly #accepted = new Map<number, Channel>();
  readonly #waiting = new Map<number, (c: Channel) => void>();

  private constructor(server: Server) {
    this.#server = server;
    server.on('connection', (socket: Socket) => {
      const channel = streamChannel(socket, { timeoutMs: TIMEOUT_MS });
      channel.receive().then(
        (hello) => {
          const index = hello.length === 1 ? hello[0]! : -1;
          if (index < 0 || this.#accepted.has(index)) return channel.close();
          this.#accepted.set(index, channel);
          this.#waiting.get(index)?.(channel);
        },
        () => channel.close(),
      );
    });
  }

  static async open(): Promise<Listener> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new Listener(server);
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** The channel from the party that says hello with `index`. */
  accept(index: number): Promise<Channel> {
    const ready = this.#accepted.get(index);
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new UnseenError('ERR_TIMEOUT', `party ${index} did not connect`)),
        TIMEOUT_MS,
      );
      this.#waiting.set(index, (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  close(): void {
    this.#server.close();
  }
}

/** Connects to `port` and says hello as `index`. */
export async function dial(port: number, index: number): Promise<Channel> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const channel = streamChannel(socket, { timeoutMs: TIMEOUT_MS });
  await channel.send(Uint8Array.of(index));
  return channel;
}

/**
 * Party `index`'s channels to all parties: it dials those below it and accepts those above.
 * @param ports the listening port of every party
 */
export async function connectPeers(
  index: number,
  ports: readonly number[],
  listener: Listener,
): Promise<(Channel | undefined)[]> {
  return Promise.all(
    ports.map((port, j) => {
      if (j === index) return undefined;
      return j < index ? dial(port, index) : listener.accept(j);
    }),
  );
}
