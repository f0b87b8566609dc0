/**
 * A client accepts the server's parameters only within its own configuration (audit M2): in the
 * active variant t >= floor(2(k+1)/3) + 1 and enough neighbours for the analysis, unless the
 * client's own `expect` pins the value or it sets `allowUnsafeParameters`.
 */
import { generateSigningKey, randomBytes } from '@unseen/core';
import {
  type ClientIdentity,
  SecAggClient,
  type SecAggClientOptions,
  SecAggServer,
  secAggParams,
  simulate,
} from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { codeOf, inline, randomInputs } from './helpers.js';

interface ServerSetup {
  clients: number;
  threshold: number;
  neighbours?: number;
  active: boolean;
}

/**
 * A (malicious) server's setup message for client 0 with the given parameters, and what client 0
 * makes of it: 'accepted' or the error code.
 */
async function offer(setup: ServerSetup, client: Omit<SecAggClientOptions, 'input'> = {}) {
  const keys = setup.active ? [generateSigningKey()] : [];
  const verifyKey = (i: number) => keys[i]?.publicKey;
  const server = await SecAggServer.create({
    ...setup,
    length: 2,
    pool: inline,
    allowUnsafeParameters: true, // the server may choose anything within the structural bounds
    ...(setup.active ? { verifyKey } : {}),
  });
  const identity: ClientIdentity | undefined = setup.active
    ? { index: 0, signingKey: keys[0]!.secretKey, verifyKey }
    : undefined;
  const c = await SecAggClient.create({
    input: new Uint32Array(2),
    pool: inline,
    ...(identity === undefined ? {} : { identity }),
    ...client,
  });
  const code = await codeOf(() => c.handle(server.start().get(0)!));
  if (code === 'none') {
    expect(c.stage).toBe('advertiseKeys');
    return 'accepted';
  }
  expect(c.stage).toBe('aborted');
  return code;
}

describe('clients enforce the bounds of the analysis on the setup they are sent', () => {
  it('active, full graph: a bare majority (t = 5 of 9) is refused, two thirds (t = 7) accepted', async () => {
    expect(await offer({ clients: 9, threshold: 5, active: true })).toBe('ERR_PARAMETER_MISMATCH');
    expect(await offer({ clients: 9, threshold: 6, active: true })).toBe('ERR_PARAMETER_MISMATCH');
    expect(await offer({ clients: 9, threshold: 7, active: true })).toBe('accepted');
  });

  it('active SecAgg+: k = 2 with t = 2 is refused (t below floor(2 * 3 / 3) + 1 = 3)', async () => {
    expect(await offer({ clients: 10, neighbours: 2, threshold: 2, active: true })).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
  });

  it('too few neighbours for the threat model are refused in both variants', async () => {
    // 100 clients, 5% colluding and 10% dropping: 14 neighbours disconnect with probability
    // 2^-39.3 > 2^-41; 16 cannot disconnect (15 removed clients cannot fill two runs of 8).
    expect(await offer({ clients: 100, neighbours: 14, threshold: 8, active: false })).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    expect(await offer({ clients: 100, neighbours: 16, threshold: 9, active: false })).toBe(
      'accepted',
    );
    expect(await offer({ clients: 100, neighbours: 14, threshold: 11, active: true })).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
  });

  it("the client's own threat model decides: a stricter one refuses what the default accepts", async () => {
    const setup = { clients: 100, neighbours: 16, threshold: 9, active: false };
    expect(await offer(setup)).toBe('accepted');
    expect(await offer(setup, { threat: { corruptFraction: 0.2 } })).toBe('ERR_PARAMETER_MISMATCH');
  });

  it('an explicit expect or allowUnsafeParameters overrides the analysis, not the structure', async () => {
    const weak = { clients: 9, threshold: 5, active: true };
    expect(await offer(weak, { expect: { threshold: 5 } })).toBe('accepted');
    expect(await offer(weak, { allowUnsafeParameters: true })).toBe('accepted');
    // Pinning the threshold does not waive the neighbour count, and the reverse.
    const sparse = { clients: 100, neighbours: 14, threshold: 8, active: false };
    expect(await offer(sparse, { expect: { threshold: 8 } })).toBe('ERR_PARAMETER_MISMATCH');
    expect(await offer(sparse, { expect: { neighbours: 14 } })).toBe('accepted');
    // A pinned value the server does not use is a mismatch, as before.
    expect(await offer(weak, { expect: { threshold: 7 } })).toBe('ERR_PARAMETER_MISMATCH');
  });

  it('a client can pin the graph seed (e.g. from a public beacon)', async () => {
    const seed = randomBytes(16);
    const server = await SecAggServer.create({ clients: 4, length: 1, graphSeed: seed });
    const setups = server.start();
    const good = await SecAggClient.create({ input: new Uint32Array(1), graphSeed: seed });
    expect(await good.handle(setups.get(0)!)).toBeInstanceOf(Uint8Array);
    const other = await SecAggClient.create({
      input: new Uint32Array(1),
      graphSeed: randomBytes(16),
    });
    expect(await codeOf(() => other.handle(setups.get(1)!))).toBe('ERR_PARAMETER_MISMATCH');
    expect(other.stage).toBe('aborted');
  });
});

describe('servers and simulations refuse the same parameters unless told otherwise', () => {
  it('secAggParams and simulate refuse the audit cases', async () => {
    expect(
      await codeOf(() => secAggParams({ clients: 9, active: true, threshold: 5, length: 1 })),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(
      await codeOf(() =>
        secAggParams({ clients: 10, neighbours: 2, threshold: 2, active: true, length: 1 }),
      ),
    ).toBe('ERR_INVALID_ARGUMENT');
    const inputs = randomInputs(9, 1);
    expect(await codeOf(() => simulate({ inputs, active: true, threshold: 5, pool: inline }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    // The default active threshold is the two-thirds bound, and that round runs.
    const r = await simulate({ inputs, active: true, pool: inline });
    expect(r.params.threshold).toBe(7);
  });

  it('the flag lets an experiment through, and the parameters stay as given', async () => {
    const p = secAggParams({
      clients: 10,
      neighbours: 2,
      threshold: 2,
      length: 1,
      allowUnsafeParameters: true,
    });
    expect(p).toMatchObject({ neighbours: 2, threshold: 2 });
    expect(
      await codeOf(() => SecAggServer.create({ clients: 100, neighbours: 14, length: 1 })),
    ).toBe('ERR_INVALID_ARGUMENT');
  });
});
