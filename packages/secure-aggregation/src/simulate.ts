/**
 * `simulate`: one aggregation round with every party's real state machine in one process, for
 * researchers and tests. Messages are the real bytes; dropouts are scripted per round; the result
 * reports the sum, who survived, the bytes each party sent and received, and the time each spent.
 * @module
 */
import { aint, aringBits, generateSigningKey, type RingBits, UnseenError } from '@unseen/core';
import type { Pool } from '@unseen/workers';
import type { ThreatModel } from './analysis.js';
import { type ClientIdentity, SecAggClient } from './client.js';
import { type ComputeOptions, computeOptions } from './masks.js';
import { ROUNDS, type SecAggParams, type SecAggRound, secAggParams } from './params.js';
import { SecAggServer } from './server.js';

/** Options of {@link simulate}. */
export interface SimulateOptions extends ComputeOptions {
  /**
   * One input per client, all of the same length: ring elements as Uint32 words (a 64-bit element
   * is two words, low then high).
   */
  inputs: readonly Uint32Array[];
  /** Ring size (default 32). */
  bits?: RingBits;
  /** Threshold t (default: the smallest safe one, see `defaultThreshold`). */
  threshold?: number;
  /** Neighbours k (default n - 1, the full protocol). */
  neighbours?: number;
  /** Active variant: fresh Ed25519 identities for every client, signatures, consistency check. */
  active?: boolean;
  /** The threat model the parameters must meet (see `secAggParams`). */
  threat?: Partial<ThreatModel>;
  /** Accept parameters outside the analysis (see `secAggParams`): experiments only. */
  allowUnsafeParameters?: boolean;
  /**
   * Pool for the clients' heavy loops (default: `pool`). A size-0 pool (`createPool({ size: 0 })`)
   * makes each client's time its time on one core, as on a device of its own.
   */
  clientPool?: Pool;
  /**
   * Per round, the clients (indices into `inputs`) that drop before sending that round's message;
   * a client that dropped stays gone. `consistencyCheck` needs `active`.
   */
  dropouts?: Partial<Record<SecAggRound, Iterable<number>>>;
}

/** Bytes on the wire in one simulated round (envelopes included). */
export interface SimulationBytes {
  /** Bytes each client sent, by client index. */
  clientSent: number[];
  /** Bytes each client received, by client index. */
  clientReceived: number[];
  serverSent: number;
  serverReceived: number;
  /** Per round: bytes of the server's messages (sent at the start) and of the clients' replies. */
  rounds: Record<'setup' | SecAggRound, { toClients: number; toServer: number }>;
}

/** Milliseconds spent, measured around each state-machine call. */
export interface SimulationTimings {
  /** Each client's total over all its calls. */
  clients: number[];
  /** The server's time in each round (receiving and closing it), and its total. */
  server: Record<SecAggRound, number> & { total: number };
  /** Wall-clock time of the whole simulation. */
  total: number;
}

/** What {@link simulate} returns. */
export interface SimulateResult {
  /** The sum of the survivors' inputs. */
  sum: Uint32Array;
  /** The clients whose inputs the sum contains (U3), ascending. */
  survivors: number[];
  /** The clients that dropped in each round, ascending. */
  dropped: Record<SecAggRound, number[]>;
  params: SecAggParams;
  bytes: SimulationBytes;
  timings: SimulationTimings;
}

function zeroRounds(): Record<'setup' | SecAggRound, { toClients: number; toServer: number }> {
  const out = { setup: { toClients: 0, toServer: 0 } } as Record<
    'setup' | SecAggRound,
    { toClients: number; toServer: number }
  >;
  for (const r of ROUNDS) out[r] = { toClients: 0, toServer: 0 };
  return out;
}

/**
 * Runs one round of secure aggregation with every client and the server in this process.
 * @returns the sum of the survivors' inputs and what the round cost
 * @throws UnseenError `ERR_INSUFFICIENT_SHARES` when dropouts leave fewer than t clients where t
 *   are needed (the server aborts); `ERR_INVALID_ARGUMENT` for bad options
 * @example
 * ```ts
 * const inputs = [Uint32Array.of(1, 2), Uint32Array.of(3, 4), Uint32Array.of(5, 6)];
 * const { sum, survivors } = await simulate({ inputs, dropouts: { maskedInput: [1] } });
 * // sum = [6, 8], survivors = [0, 2]
 * ```
 */
export async function simulate(options: SimulateOptions): Promise<SimulateResult> {
  const started = performance.now();
  if (typeof options !== 'object' || options === null || !Array.isArray(options.inputs)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'simulate: expected { inputs: Uint32Array[] }');
  }
  const { inputs } = options;
  const n = inputs.length;
  const bits = aringBits(options.bits ?? 32);
  const words = inputs[0]?.length ?? 0;
  inputs.forEach((x, i) => {
    if (!(x instanceof Uint32Array) || x.length !== words) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `simulate: input ${i} must be a Uint32Array of ${words} words like input 0`,
      );
    }
  });
  if (bits === 64 && words % 2 !== 0) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'simulate: 64-bit inputs have an even number of words',
    );
  }
  const params = secAggParams({
    clients: n,
    length: bits === 32 ? words : words / 2,
    bits,
    ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
    ...(options.neighbours === undefined ? {} : { neighbours: options.neighbours }),
    ...(options.active === undefined ? {} : { active: options.active }),
    ...(options.threat === undefined ? {} : { threat: options.threat }),
    ...(options.allowUnsafeParameters === undefined
      ? {}
      : { allowUnsafeParameters: options.allowUnsafeParameters }),
  });
  const drops = new Map<SecAggRound, Set<number>>();
  for (const [round, list] of Object.entries(options.dropouts ?? {})) {
    if (!(ROUNDS as readonly string[]).includes(round)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `simulate: unknown round ${round} in dropouts`);
    }
    if (round === 'consistencyCheck' && !params.active) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        'simulate: consistencyCheck dropouts need the active variant',
      );
    }
    const set = new Set<number>();
    for (const i of list ?? []) set.add(aint(i, `dropouts.${round}`, 0, n - 1));
    drops.set(round as SecAggRound, set);
  }
  const compute: ComputeOptions = computeOptions(options);

  // The PKI of the active variant: one Ed25519 identity per client.
  const identities = params.active ? inputs.map(() => generateSigningKey()) : [];
  const verifyKey = (i: number) => identities[i]?.publicKey;
  // The parameters passed secAggParams above (or were allowed by the caller): create the
  // server with them as they are.
  const server = await SecAggServer.create({
    ...params,
    ...compute,
    allowUnsafeParameters: true,
    ...(params.active ? { verifyKey } : {}),
  });
  const clients = await Promise.all(
    inputs.map((input, i) => {
      const identity: ClientIdentity | undefined = params.active
        ? { index: i, signingKey: identities[i]!.secretKey, verifyKey }
        : undefined;
      const clientPool = options.clientPool ?? options.pool;
      return SecAggClient.create({
        input,
        expect: params,
        ...compute,
        ...(clientPool === undefined ? {} : { pool: clientPool }),
        ...(identity === undefined ? {} : { identity }),
      });
    }),
  );

  const bytes: SimulationBytes = {
    clientSent: new Array<number>(n).fill(0),
    clientReceived: new Array<number>(n).fill(0),
    serverSent: 0,
    serverReceived: 0,
    rounds: zeroRounds(),
  };
  const serverTime = { total: 0 } as Record<SecAggRound, number> & { total: number };
  for (const r of ROUNDS) serverTime[r] = 0;
  const clientTime = new Array<number>(n).fill(0);
  const gone = new Set<number>();

  let outgoing = server.start();
  let round: SecAggRound = 'advertiseKeys';
  let label: 'setup' | SecAggRound = 'setup';
  for (;;) {
    for (const [u, message] of outgoing) {
      bytes.serverSent += message.length;
      bytes.clientReceived[u]! += message.length;
      bytes.rounds[label].toClients += message.length;
      if (gone.has(u) || drops.get(round)?.has(u)) {
        gone.add(u);
        continue;
      }
      let t0 = performance.now();
      const reply = await clients[u]!.handle(message);
      clientTime[u]! += performance.now() - t0;
      if (reply === undefined) continue;
      bytes.clientSent[u]! += reply.length;
      bytes.serverReceived += reply.length;
      bytes.rounds[round].toServer += reply.length;
      t0 = performance.now();
      await server.receive(u, reply);
      serverTime[round] += performance.now() - t0;
    }
    const t0 = performance.now();
    const step = await server.advance();
    serverTime[round] += performance.now() - t0;
    if (step.round === 'done') {
      for (const r of ROUNDS) serverTime.total += serverTime[r];
      return {
        sum: step.result.sum,
        survivors: step.result.survivors,
        dropped: step.result.dropped,
        params,
        bytes,
        timings: { clients: clientTime, server: serverTime, total: performance.now() - started },
      };
    }
    outgoing = step.messages;
    label = step.round;
    round = step.round;
  }
}
