/**
 * `Channel`: the one transport abstraction of unseen. Protocol runners (`runPsiClient`,
 * `runSecAggServer`, ...) take a Channel; transports implement it: {@link memoryChannelPair}
 * for tests and in-process simulation, {@link streamChannel} for TCP sockets and pipes, and a
 * WebSocket channel in the service layer.
 *
 * Every wait has a deadline: `receive` raises `ERR_TIMEOUT` after `timeoutMs` (default 30 s),
 * `ERR_CHANNEL_CLOSED` once the channel or its peer is closed and nothing is left to read, and
 * `ERR_ABORTED` when its AbortSignal fires. Messages are whole byte arrays, delivered in order.
 * @module
 */
import { abytes, aint, UnseenError } from './errors.js';
import { DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder } from './framing.js';

/** Default receive timeout: 30 seconds. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Options of one receive. */
export interface ReceiveOptions {
  /** Deadline in milliseconds (default: the channel's, 30 s unless configured). */
  timeoutMs?: number;
  /** Cancels the wait with `ERR_ABORTED`. */
  signal?: AbortSignal;
}

/** A bidirectional, ordered, message-oriented transport. */
export interface Channel {
  /** Sends one message. @throws UnseenError `ERR_CHANNEL_CLOSED`, `ERR_MESSAGE_TOO_LARGE` */
  send(message: Uint8Array): Promise<void>;
  /** Receives the next message. @throws UnseenError `ERR_TIMEOUT`, `ERR_CHANNEL_CLOSED`, `ERR_ABORTED` */
  receive(options?: ReceiveOptions): Promise<Uint8Array>;
  /** Closes both directions; pending receives fail with `ERR_CHANNEL_CLOSED`. Idempotent. */
  close(): void;
  /** True once closed locally or by the peer. */
  readonly closed: boolean;
  /** Payload bytes sent so far (for metering). */
  readonly bytesSent: number;
  /** Payload bytes received so far (for metering). */
  readonly bytesReceived: number;
}

/** Options shared by the channels in this module. */
export interface ChannelOptions {
  /** Default receive deadline in ms (default 30,000). */
  timeoutMs?: number;
  /** Largest message accepted, in bytes (default 256 MiB). */
  maxMessageBytes?: number;
}

interface Waiter {
  resolve(message: Uint8Array): void;
  reject(error: UnseenError): void;
}

/**
 * A channel whose incoming side is a queue fed by `deliver`; transports subclass it and supply
 * `transmit` and `shutdown`. Exported for transport authors.
 */
export abstract class QueueChannel implements Channel {
  readonly #inbox: Uint8Array[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #timeoutMs: number;
  protected readonly maxMessageBytes: number;
  #closed = false;
  #closeError: UnseenError | undefined;
  #sent = 0;
  #received = 0;

  constructor(options: ChannelOptions = {}) {
    this.#timeoutMs = aint(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs', 1, 2 ** 31 - 1);
    this.maxMessageBytes = aint(options.maxMessageBytes ?? DEFAULT_MAX_FRAME, 'maxMessageBytes', 1);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get bytesSent(): number {
    return this.#sent;
  }

  get bytesReceived(): number {
    return this.#received;
  }

  /** Puts the transport's bytes on the wire. */
  protected abstract transmit(message: Uint8Array): Promise<void> | void;
  /** Releases the transport. Called once. */
  protected abstract shutdown(): void;

  /** Hands an incoming message to the next receiver (or queues it). */
  protected deliver(message: Uint8Array): void {
    if (this.#closed) return;
    this.#received += message.length;
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(message);
    else this.#inbox.push(message);
  }

  /**
   * Marks the channel closed (by the peer or a transport error). Queued messages stay readable;
   * then receives fail with `error` or `ERR_CHANNEL_CLOSED`.
   */
  protected terminate(error?: UnseenError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = error;
    for (const w of this.#waiters.splice(0)) w.reject(this.#closedError());
    this.shutdown();
  }

  #closedError(): UnseenError {
    return this.#closeError ?? new UnseenError('ERR_CHANNEL_CLOSED', 'channel closed');
  }

  async send(message: Uint8Array): Promise<void> {
    abytes(message, 'message');
    if (this.#closed) throw this.#closedError();
    if (message.length > this.maxMessageBytes) {
      throw new UnseenError(
        'ERR_MESSAGE_TOO_LARGE',
        `message of ${message.length} bytes exceeds the channel limit of ${this.maxMessageBytes}`,
      );
    }
    this.#sent += message.length;
    await this.transmit(message);
  }

  receive(options: ReceiveOptions = {}): Promise<Uint8Array> {
    const queued = this.#inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.reject(this.#closedError());
    const { signal } = options;
    if (signal?.aborted) {
      return Promise.reject(
        new UnseenError('ERR_ABORTED', 'receive aborted', { cause: signal.reason }),
      );
    }
    const timeoutMs = aint(options.timeoutMs ?? this.#timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
    return new Promise<Uint8Array>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
      const waiter: Waiter = {
        resolve: (m) => {
          cleanup();
          resolve(m);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const onAbort = (): void =>
        waiter.reject(new UnseenError('ERR_ABORTED', 'receive aborted', { cause: signal?.reason }));
      const timer = setTimeout(
        () =>
          waiter.reject(
            new UnseenError('ERR_TIMEOUT', `no message within ${timeoutMs} ms`, {
              details: { timeoutMs },
            }),
          ),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    this.terminate();
  }
}

class MemoryChannel extends QueueChannel {
  peer: MemoryChannel | undefined;

  protected transmit(message: Uint8Array): void {
    // Copy, as a network would: the sender may reuse its buffer.
    const peer = this.peer!;
    const copy = new Uint8Array(message); // a copy even for a Node Buffer (whose slice is a view)
    queueMicrotask(() => peer.deliver(copy));
  }

  protected shutdown(): void {
    const peer = this.peer!;
    queueMicrotask(() => peer.terminate());
  }
}

/**
 * Two connected in-memory channels: what one sends, the other receives (copied, in order,
 * asynchronously). Closing one closes the other once its queued messages are read.
 * @example
 * ```ts
 * const [a, b] = memoryChannelPair({ timeoutMs: 1000 });
 * await a.send(new Uint8Array([1, 2]));
 * await b.receive(); // Uint8Array [1, 2]
 * ```
 */
export function memoryChannelPair(options: ChannelOptions = {}): [Channel, Channel] {
  const a = new MemoryChannel(options);
  const b = new MemoryChannel(options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** The byte-stream side a {@link streamChannel} needs; a Node `net.Socket` fits. */
export interface ByteStream {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): unknown;
  end(): unknown;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

class StreamChannel extends QueueChannel {
  readonly #stream: ByteStream;

  constructor(stream: ByteStream, options: ChannelOptions) {
    super(options);
    this.#stream = stream;
    const decoder = new FrameDecoder({ maxFrame: this.maxMessageBytes });
    stream.on('data', (chunk) => {
      if (this.closed) return;
      try {
        for (const frame of decoder.push(chunk)) this.deliver(frame);
      } catch (e) {
        this.terminate(
          e instanceof UnseenError ? e : new UnseenError('ERR_MALFORMED_MESSAGE', 'bad frame'),
        );
      }
    });
    stream.on('close', () => this.terminate());
    stream.on('error', (cause) =>
      this.terminate(
        new UnseenError('ERR_CHANNEL_CLOSED', `stream error: ${cause.message}`, { cause }),
      ),
    );
  }

  protected transmit(message: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#stream.write(encodeFrame(message), (error) => {
        if (error)
          reject(
            new UnseenError('ERR_CHANNEL_CLOSED', `write failed: ${error.message}`, {
              cause: error,
            }),
          );
        else resolve();
      });
    });
  }

  protected shutdown(): void {
    this.#stream.end();
  }
}

/**
 * A channel over a byte stream (TCP socket, pipe) with 4-byte length-prefixed frames. A frame
 * above `maxMessageBytes` closes the channel with `ERR_MESSAGE_TOO_LARGE` before it is buffered.
 * @example
 * ```ts
 * import { connect } from 'node:net';
 * const channel = streamChannel(connect(7000, '127.0.0.1'));
 * ```
 */
export function streamChannel(stream: ByteStream, options: ChannelOptions = {}): Channel {
  return new StreamChannel(stream, options);
}
