/**
 * A core {@link Channel} over a WebSocket, for both ends: the `ws` package's sockets on Node
 * (client and server side alike) and the browser's `WebSocket`. One binary WebSocket message
 * is one channel message; text messages are handed to an optional `onText` (the relay's
 * control notices) and never to `receive`.
 * @module
 */
import { type ChannelOptions, QueueChannel, UnseenError } from '@unseen/core';

/** The part of the WebSocket API this module uses (browser `WebSocket` and `ws` both fit). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array | string, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

const OPEN = 1;

/** Turns WebSocket message data into bytes, or undefined for text. */
export function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data))
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) {
    // ws may deliver fragmented messages as Buffer[].
    const parts = data as Uint8Array[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
  return undefined;
}

/** Options of {@link webSocketChannel}. */
export interface WebSocketChannelOptions extends ChannelOptions {
  /** Receives text messages (not part of the channel's data). */
  onText?: (text: string) => void;
}

class WebSocketChannel extends QueueChannel {
  readonly #socket: WebSocketLike;

  constructor(socket: WebSocketLike, options: WebSocketChannelOptions) {
    super(options);
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', (event) => {
      const bytes = messageBytes(event.data);
      if (bytes === undefined) {
        if (typeof event.data === 'string') options.onText?.(event.data);
        return;
      }
      if (bytes.length > this.maxMessageBytes) {
        this.terminate(
          new UnseenError(
            'ERR_MESSAGE_TOO_LARGE',
            `message of ${bytes.length} bytes exceeds ${this.maxMessageBytes}`,
          ),
        );
        return;
      }
      this.deliver(bytes);
    });
    socket.addEventListener('close', (event) => {
      this.terminate(
        event.code === 1000 || event.code === 1005
          ? undefined
          : new UnseenError(
              'ERR_CHANNEL_CLOSED',
              `websocket closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`,
              {
                details: { wsCode: event.code, reason: event.reason },
              },
            ),
      );
    });
    socket.addEventListener('error', () =>
      this.terminate(new UnseenError('ERR_CHANNEL_CLOSED', 'websocket error')),
    );
  }

  protected transmit(message: Uint8Array): Promise<void> {
    if (this.#socket.readyState !== OPEN) {
      return Promise.reject(new UnseenError('ERR_CHANNEL_CLOSED', 'websocket is not open'));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      // `ws` calls back once the frame is written; browsers take no callback and queue.
      this.#socket.send(message, (error) => {
        settled = true;
        if (error)
          reject(
            new UnseenError('ERR_CHANNEL_CLOSED', `websocket send failed: ${error.message}`, {
              cause: error,
            }),
          );
        else resolve();
      });
      if (this.#socket.send.length < 2 && !settled) resolve();
    });
  }

  protected shutdown(): void {
    if (this.#socket.readyState <= OPEN) this.#socket.close(1000, 'closed');
  }
}

/**
 * A channel over an open WebSocket.
 * @example
 * ```ts
 * import WebSocket from 'ws';
 * const socket = new WebSocket('ws://127.0.0.1:8080/echo');
 * await new Promise((r) => socket.once('open', r));
 * const channel = webSocketChannel(socket);
 * ```
 */
export function webSocketChannel(
  socket: WebSocketLike,
  options: WebSocketChannelOptions = {},
): QueueChannel {
  return new WebSocketChannel(socket, options);
}
