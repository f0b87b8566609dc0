import type { SecAggRound } from '@unseen/secure-aggregation';
import { simulate } from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { codeOf, Harness, inline, randomInputs } from './helpers.js';

describe('below the threshold the round aborts and the server learns nothing', () => {
  const rounds: SecAggRound[] = [
    'advertiseKeys',
    'shareKeys',
    'maskedInput',
    'consistencyCheck',
    'unmask',
  ];
  for (const round of rounds) {
    it(`too many dropouts in ${round}: ERR_INSUFFICIENT_SHARES`, async () => {
      // 7 clients, t = 5 (active default): 3 dropouts leave 4 < 5.
      const err = await simulate({
        inputs: randomInputs(7, 8),
        active: true,
        pool: inline,
        dropouts: { [round]: [0, 3, 6] },
      }).catch((e) => e);
      expect(err.code).toBe('ERR_INSUFFICIENT_SHARES');
      expect(err.details.round).toBe(round);
      expect(err.details.threshold).toBe(5);
      expect(err.details.remaining).toBeLessThan(5);
    });
  }

  it('one dropout fewer and the same round completes', async () => {
    const r = await simulate({
      inputs: randomInputs(7, 8),
      active: true,
      pool: inline,
      dropouts: { unmask: [0, 3] },
    });
    expect(r.survivors).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('the aborted server keeps no state, returns no result and refuses to go on', async () => {
    const h = await Harness.create({ clients: 5, length: 4 });
    await h.round(); // advertise keys
    await h.round(); // share keys
    // Only 0 and 4 send masked inputs: 2 < t = 3.
    const step = await h.round([1, 2, 3]).catch((e) => e);
    expect(step.code).toBe('ERR_INSUFFICIENT_SHARES');
    expect(h.server.stage).toBe('aborted');
    expect(await codeOf(() => h.server.advance())).toBe('ERR_INVALID_STATE');
    expect(await codeOf(() => h.server.receive(0, new Uint8Array(10)))).toBe('ERR_INVALID_STATE');
    // The clients are told, and abort.
    const abort = h.server.abortMessage('ERR_INSUFFICIENT_SHARES', 'too few clients');
    const clientErr = await h.clients[0]!.handle(abort).catch((e) => e);
    expect(clientErr.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(clientErr.details.serverCode).toBe('ERR_INSUFFICIENT_SHARES');
    expect(h.clients[0]!.stage).toBe('aborted');
    expect(await codeOf(() => h.clients[0]!.handle(abort))).toBe('ERR_INVALID_STATE');
  });

  it('a SecAgg+ group that falls below t aborts even when the round as a whole has enough', async () => {
    // 12 clients, k = 4 (groups of 5), t = 4: client 0 and two of its neighbours drop after
    // sharing their keys, so 0's mask key has 2 < 4 holders left, while 9 of 12 clients remain.
    const h = await Harness.create({ clients: 12, length: 4, neighbours: 4, threshold: 4 });
    const others = Array.from(h.server.graph.group(0)).filter((v) => v !== 0);
    await h.round();
    await h.round();
    const err = await h.round([0, others[0]!, others[1]!]).catch((e) => e);
    expect(err.code).toBe('ERR_INSUFFICIENT_SHARES');
    expect(err.details.client).toBeDefined();
  });
});
