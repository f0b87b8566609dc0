/** Runs one program on n in-memory parties and a dealer (a test helper). */
import { type Channel, newSessionId } from '@unseen/core';
import {
  type DealerStats,
  MpcSession,
  type MpcSessionOptions,
  memoryMesh,
  runDealer,
} from '@unseen/secret-sharing';

export interface RunResult<T> {
  outcomes: PromiseSettledResult<T>[];
  dealer: PromiseSettledResult<DealerStats>;
}

export async function runParties<T>(
  parties: number,
  program: (session: MpcSession, party: number) => Promise<T>,
  options: {
    timeoutMs?: number;
    session?: (party: number) => Partial<MpcSessionOptions>;
    wrapPeer?: (from: number, to: number, channel: Channel) => Channel;
  } = {},
): Promise<RunResult<T>> {
  const mesh = memoryMesh(parties);
  const session = newSessionId();
  const timeoutMs = options.timeoutMs ?? 5_000;
  const dealer = runDealer({ parties, session, channels: mesh.dealer, timeoutMs: timeoutMs * 4 });
  const outcomes = await Promise.allSettled(
    Array.from({ length: parties }, async (_, p) => {
      const peers = mesh.peers[p]!.map((c, j) =>
        c && options.wrapPeer ? options.wrapPeer(p, j, c) : c,
      );
      const s = MpcSession.create({
        party: p,
        parties,
        peers,
        dealer: mesh.toDealer[p]!,
        session,
        timeoutMs,
        ...options.session?.(p),
      });
      try {
        return await program(s, p);
      } finally {
        mesh.toDealer[p]!.close();
      }
    }),
  );
  const dealerResult = (await Promise.allSettled([dealer]))[0]!;
  mesh.close();
  return { outcomes, dealer: dealerResult };
}

/** The values of fulfilled outcomes; throws the first rejection. */
export function values<T>(outcomes: PromiseSettledResult<T>[]): T[] {
  return outcomes.map((o) => {
    if (o.status === 'rejected') throw o.reason;
    return o.value;
  });
}

/** The error code of each outcome (undefined when it succeeded). */
export function codes(outcomes: PromiseSettledResult<unknown>[]): (string | undefined)[] {
  return outcomes.map((o) =>
    o.status === 'rejected' ? (o.reason as { code?: string }).code : undefined,
  );
}
