import { newSessionId } from '@unseen/core';
import { MpcSession, memoryMesh, runDealer } from '@unseen/secret-sharing';
import { describe, expect, it } from 'vitest';
import { runJointStatistics } from '../src/main.js';
import { HOSPITALS, hospitalRecords, plainStatistics } from '../src/records.js';
import { jointStatistics, localSummary } from '../src/statistics.js';

describe('example: joint statistics of three hospitals', () => {
  it('three hospital processes and a dealer over TCP agree with the plain computation', async () => {
    const run = await runJointStatistics();
    expect(run.reports.map((r) => r.hospital)).toEqual(HOSPITALS.map((h) => h.name));
    const { count, mean, variance } = run.plain;
    expect(count).toBe(HOSPITALS.reduce((n, h) => n + h.records, 0));
    for (const r of run.reports) {
      expect(r.count).toBe(count);
      // Error budget (README): 1 / N to 30 bits and three truncations at 2^-16.
      expect(Math.abs(r.mean - mean)).toBeLessThan(1e-4);
      expect(Math.abs(r.variance - variance)).toBeLessThan(2e-3);
      // Seeds instead of shares: a hospital sends a few hundred bytes in all.
      expect(r.bytesSent).toBeLessThan(2_000);
    }
    expect(run.dealer).toEqual({ requests: 3, elements: 4 });
  }, 60_000);

  it('refuses to release statistics of a cohort below the minimum', async () => {
    const mesh = memoryMesh(3);
    const session = newSessionId();
    const dealer = runDealer({ parties: 3, session, channels: mesh.dealer });
    const outcomes = await Promise.allSettled(
      [0, 1, 2].map(async (p) => {
        const s = MpcSession.create({
          party: p,
          parties: 3,
          peers: mesh.peers[p]!,
          dealer: mesh.toDealer[p]!,
          session,
        });
        try {
          return await jointStatistics(s, hospitalRecords(p).subarray(0, 5)); // 15 records in all
        } finally {
          mesh.toDealer[p]!.close();
        }
      }),
    );
    // The parties' aborts reach the dealer too, which stops.
    expect(await dealer.catch((e: { code: string }) => e.code)).toBe('ERR_PROTOCOL_ABORTED');
    mesh.close();
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      expect((o as PromiseRejectedResult).reason.code).toBe('ERR_POLICY_DENIED');
    }
  });

  it('a record outside the agreed range is refused before anything is shared', () => {
    expect(() => localSummary([120, 500])).toThrow(/outside the agreed range/);
    expect(plainStatistics([1, 2, 3])).toEqual({ count: 3, mean: 2, variance: 2 / 3 });
  });
});
