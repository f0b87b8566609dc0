/**
 * The three roles. Messages on the TCP channel: one kind byte, then bytes.
 * - hospital -> aggregator: 'B' + BFV contribution (counts), 'C' + CKKS contribution (sums);
 *   the aggregator answers 'K' (kept) or 'E' + error code.
 * - analyst -> aggregator: 'R'; the aggregator answers 'B' + encrypted count sums and
 *   'C' + encrypted value sums, or 'E' + error code (e.g. fewer than 10 hospitals so far).
 */
import { connect, createServer, type Socket } from 'node:net';
import {
  bytesToUtf8,
  type Channel,
  concatBytes,
  isUnseenError,
  streamChannel,
  utf8ToBytes,
} from '@unseen/core';
import { Aggregator, encryptContribution } from '@unseen/homomorphic';
import { localStatistics, patientsOf } from './data.js';

const K = 'K'.charCodeAt(0);
const E = 'E'.charCodeAt(0);
const B = 'B'.charCodeAt(0);
const C = 'C'.charCodeAt(0);
const R = 'R'.charCodeAt(0);

function frame(kind: number, body: Uint8Array = new Uint8Array()): Uint8Array {
  return concatBytes(new Uint8Array([kind]), body);
}

function openChannel(port: number): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      resolve(streamChannel(socket, { timeoutMs: 60_000 })),
    );
    socket.once('error', reject);
  });
}

/** The aggregator: no key, two accumulators, refuses to release fewer than `min` hospitals. */
export async function runAggregator(
  bfvParams: Uint8Array,
  ckksParams: Uint8Array,
  min: number,
): Promise<void> {
  const counts = await Aggregator.create(bfvParams, { minContributions: min });
  const sums = await Aggregator.create(ckksParams, { minContributions: min });
  const server = createServer((socket: Socket) => {
    const channel = streamChannel(socket, { timeoutMs: 60_000, maxMessageBytes: 64 << 20 });
    void (async () => {
      try {
        for (;;) {
          const msg = await channel.receive();
          const kind = msg[0];
          try {
            if (kind === B) counts.add(msg.subarray(1));
            else if (kind === C) sums.add(msg.subarray(1));
            else if (kind === R) {
              const b = counts.result();
              const c = sums.result();
              await channel.send(frame(B, b));
              await channel.send(frame(C, c));
              console.log(`[aggregator] released the sums of ${counts.count} hospitals`);
              continue;
            } else throw new Error('unknown message');
            await channel.send(frame(K));
            console.log(
              `[aggregator] added encrypted ${kind === B ? 'counts' : 'sums'} (${msg.length - 1} bytes); ${counts.count} count and ${sums.count} sum vectors so far`,
            );
          } catch (e) {
            const code = isUnseenError(e) ? e.code : 'ERR_MALFORMED_MESSAGE';
            console.log(`[aggregator] rejected a message: ${code}`);
            await channel.send(frame(E, utf8ToBytes(code)));
          }
        }
      } catch {
        channel.close(); // peer done (or timed out)
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address !== null ? address.port : 0}`);
}

/** A hospital: local statistics of its own records, encrypted, sent. */
export async function runHospital(
  index: number,
  port: number,
  bfvParams: Uint8Array,
  ckksParams: Uint8Array,
): Promise<void> {
  const patients = patientsOf(index);
  const stats = localStatistics(patients);
  const counts = await encryptContribution(bfvParams, stats.counts, { pool: null });
  const sums = await encryptContribution(ckksParams, stats.sums, { pool: null });
  const channel = await openChannel(port);
  for (const [kind, bytes] of [
    [B, counts],
    [C, sums],
  ] as const) {
    await channel.send(frame(kind, bytes));
    const reply = await channel.receive();
    if (reply[0] !== K) throw new Error(`aggregator refused: ${bytesToUtf8(reply.subarray(1))}`);
  }
  channel.close();
  console.log(
    `[hospital ${index + 1}] ${patients.length} patients; sent ${counts.length + sums.length} encrypted bytes`,
  );
}

/** The analyst's request for the sums. */
export async function fetchSums(
  port: number,
): Promise<{ counts: Uint8Array; sums: Uint8Array } | { error: string }> {
  const channel = await openChannel(port);
  try {
    await channel.send(frame(R));
    const first = await channel.receive();
    if (first[0] === E) return { error: bytesToUtf8(first.subarray(1)) };
    const second = await channel.receive();
    return { counts: first.subarray(1), sums: second.subarray(1) };
  } finally {
    channel.close();
  }
}
