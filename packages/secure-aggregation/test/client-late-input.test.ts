/**
 * The input may come after the client is created (the key rounds then overlap the computation
 * of the input, e.g. training), and the heavy loops may be kept on the calling thread.
 */
import { memoryChannelPair } from '@unseen/core';
import {
  runSecAggClient,
  runSecAggServer,
  SecAggClient,
  simulate,
} from '@unseen/secure-aggregation';
import type { Pool } from '@unseen/workers';
import { describe, expect, it } from 'vitest';
import { combineMasks } from '../src/masks.js';
import { codeOf, Harness, inline, plainSum, randomInputs } from './helpers.js';

describe('SecAggClient.setInput', () => {
  it('the Round 2 message waits for the input without harm; then the round completes', async () => {
    const inputs = randomInputs(4, 6);
    const h = await Harness.create({ clients: 4, length: 6, inputs });
    // Replace client 2 by one created without input.
    const late = await SecAggClient.create({ pool: inline });
    (h.clients as SecAggClient[])[2] = late;
    expect(late.needsInput).toBe(true);
    await h.round(); // AdvertiseKeys
    await h.round(); // ShareKeys
    const due = h.outgoing.get(2)!;
    expect(await codeOf(() => late.handle(due))).toBe('ERR_INVALID_STATE');
    expect(late.stage).toBe('shareKeys'); // unchanged: the same message can be handled again
    expect(await codeOf(() => late.setInput(new Uint32Array(5)))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => late.setInput([1, 2] as unknown as Uint32Array))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    late.setInput(inputs[2]!);
    expect(late.needsInput).toBe(false);
    expect(await codeOf(() => late.setInput(inputs[2]!))).toBe('ERR_INVALID_STATE');
    await h.deliver();
    await h.collect();
    await h.advance();
    const step = await h.round();
    expect(step.round).toBe('done');
    if (step.round === 'done') {
      expect(Array.from(step.result.sum)).toEqual(Array.from(plainSum(32, inputs, [0, 1, 2, 3])));
    }
    expect(await codeOf(() => late.setInput(inputs[2]!))).toBe('ERR_INVALID_STATE');
  });

  it('runSecAggClient takes a promised input and waits for it only when it is due', async () => {
    const inputs = randomInputs(3, 4);
    const links = inputs.map(() => memoryChannelPair());
    let release: (x: Uint32Array) => void = () => undefined;
    const promised = new Promise<Uint32Array>((resolve) => {
      release = resolve;
    });
    const server = runSecAggServer(
      links.map(([s]) => s),
      { length: 4, roundTimeoutMs: 5000, pool: inline },
    );
    const clients = links.map(([, c], i) =>
      runSecAggClient(c, { input: i === 1 ? promised : inputs[i]!, pool: inline }),
    );
    setTimeout(() => release(inputs[1]!), 200);
    const [result] = await Promise.all([server, ...clients]);
    expect(Array.from(result.sum)).toEqual(Array.from(plainSum(32, inputs, [0, 1, 2])));
  });

  it('a promised input that never comes times out (ERR_TIMEOUT), and the others go on', async () => {
    const inputs = randomInputs(4, 2);
    const links = inputs.map(() => memoryChannelPair());
    const never = new Promise<Uint32Array>(() => undefined);
    const server = runSecAggServer(
      links.map(([s]) => s),
      { length: 2, roundTimeoutMs: 1500, pool: inline },
    );
    const clients = links.map(([, c], i) =>
      runSecAggClient(c, {
        input: i === 3 ? never : inputs[i]!,
        pool: inline,
        inputTimeoutMs: 100,
      }).catch((e) => e.code as string),
    );
    const [result, , , , lateCode] = await Promise.all([server, ...clients]);
    expect(lateCode).toBe('ERR_TIMEOUT');
    expect(result.survivors).toEqual([0, 1, 2]);
    expect(Array.from(result.sum)).toEqual(Array.from(plainSum(32, inputs, [0, 1, 2])));
  });
});

describe('compute in-thread mode', () => {
  /** A pool that fails every call: any work handed to it makes the round fail. */
  const refusing: Pool = {
    size: 2,
    closed: false,
    pending: 0,
    run: () => Promise.reject(new Error('the pool was used')),
    map: () => Promise.reject(new Error('the pool was used')),
    close: () => Promise.resolve(),
  };

  it('inline: true keeps every heavy loop on the calling thread', async () => {
    // 50 clients: 49 agreements each, above the inline limit of 48, so that the pool would
    // otherwise be used for the agreements.
    const inputs = randomInputs(50, 8192);
    const err = await simulate({ inputs, pool: refusing }).catch((e) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/the pool was used/);
    const r = await simulate({ inputs, pool: refusing, inline: true });
    expect(Array.from(r.sum)).toEqual(
      Array.from(
        plainSum(
          32,
          inputs,
          Array.from({ length: 50 }, (_, i) => i),
        ),
      ),
    );
  }, 60_000);

  it('mask expansion: a long vector goes to the pool unless inline', async () => {
    const words = 65_536; // four 16 K-word chunks
    const terms = [1, 2, 3, 4].map((i) => ({ seed: new Uint8Array(16).fill(i), sign: 1 as const }));
    const pooled = await combineMasks(32, words, terms, undefined, { pool: refusing }).catch(
      (e) => e as Error,
    );
    expect((pooled as Error).message).toMatch(/the pool was used/);
    const here = await combineMasks(32, words, terms, undefined, { pool: refusing, inline: true });
    expect(here).toEqual(await combineMasks(32, words, terms, undefined, { pool: inline }));
  });
});
