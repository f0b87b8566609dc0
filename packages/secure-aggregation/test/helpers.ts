/** Shared helpers of the secure-aggregation tests. */
import {
  fillRandom,
  generateSigningKey,
  isUnseenError,
  type RingBits,
  ringAddInto,
  type SigningKeyPair,
} from '@unseen/core';
import {
  type ClientIdentity,
  SecAggClient,
  SecAggServer,
  type ServerStep,
} from '@unseen/secure-aggregation';
import { createPool } from '@unseen/workers';

/** Tests run the heavy loops inline: deterministic, and no worker start-up per file. */
export const inline = createPool({ size: 0 });

/** The error code of a rejected promise or thrown call ('none' when it did not fail). */
export async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'none';
  } catch (e) {
    if (isUnseenError(e)) return e.code;
    throw e;
  }
}

/** Random ring vectors. */
export function randomInputs(n: number, words: number): Uint32Array[] {
  return Array.from({ length: n }, () => fillRandom(new Uint32Array(words)));
}

/** The plain sum of the chosen inputs in Z_2^bits. */
export function plainSum(
  bits: RingBits,
  inputs: readonly Uint32Array[],
  chosen: readonly number[],
): Uint32Array {
  const out = new Uint32Array(inputs[0]!.length);
  for (const i of chosen) ringAddInto(bits, out, inputs[i]!);
  return out;
}

export interface HarnessOptions {
  clients: number;
  length: number;
  bits?: RingBits;
  threshold?: number;
  neighbours?: number;
  active?: boolean;
  /** The clients' inputs (default random). */
  inputs?: Uint32Array[];
  /** Server and clients accept parameters outside the analysis (small test graphs). */
  allowUnsafeParameters?: boolean;
}

/**
 * A server and its clients driven by hand, so a test can drop, alter, replay or reroute any
 * message between them.
 */
export class Harness {
  outgoing = new Map<number, Uint8Array>();
  /** The replies of the last delivered round, by client. */
  replies = new Map<number, Uint8Array>();

  private constructor(
    readonly server: SecAggServer,
    readonly clients: SecAggClient[],
    readonly inputs: Uint32Array[],
    readonly identities: SigningKeyPair[],
  ) {}

  static async create(o: HarnessOptions): Promise<Harness> {
    const bits = o.bits ?? 32;
    const words = bits === 32 ? o.length : 2 * o.length;
    const inputs = o.inputs ?? randomInputs(o.clients, words);
    const identities = o.active ? inputs.map(() => generateSigningKey()) : [];
    const verifyKey = (i: number) => identities[i]?.publicKey;
    const server = await SecAggServer.create({
      clients: o.clients,
      length: o.length,
      bits,
      pool: inline,
      ...(o.threshold === undefined ? {} : { threshold: o.threshold }),
      ...(o.neighbours === undefined ? {} : { neighbours: o.neighbours }),
      ...(o.active ? { active: true, verifyKey } : {}),
      ...(o.allowUnsafeParameters ? { allowUnsafeParameters: true } : {}),
    });
    const clients = await Promise.all(
      inputs.map((input, i) => {
        const identity: ClientIdentity | undefined = o.active
          ? { index: i, signingKey: identities[i]!.secretKey, verifyKey }
          : undefined;
        return SecAggClient.create({
          input,
          pool: inline,
          ...(identity ? { identity } : {}),
          ...(o.allowUnsafeParameters ? { allowUnsafeParameters: true } : {}),
        });
      }),
    );
    const h = new Harness(server, clients, inputs, identities);
    h.outgoing = server.start();
    return h;
  }

  /** Delivers the pending server messages to every client not skipped; collects replies. */
  async deliver(skip: Iterable<number> = []): Promise<Map<number, Uint8Array>> {
    const skipped = new Set(skip);
    this.replies = new Map();
    for (const [u, m] of this.outgoing) {
      if (skipped.has(u)) continue;
      const reply = await this.clients[u]!.handle(m);
      if (reply !== undefined) this.replies.set(u, reply);
    }
    return this.replies;
  }

  /** Hands the collected replies to the server. */
  async collect(replies: Map<number, Uint8Array> = this.replies): Promise<void> {
    for (const [u, m] of replies) await this.server.receive(u, m);
  }

  /** Closes the server's round and keeps its messages for the next delivery. */
  async advance(): Promise<ServerStep> {
    const step = await this.server.advance();
    if (step.round !== 'done') this.outgoing = step.messages;
    return step;
  }

  /** deliver + collect + advance. */
  async round(skip: Iterable<number> = []): Promise<ServerStep> {
    await this.deliver(skip);
    await this.collect();
    return this.advance();
  }
}
