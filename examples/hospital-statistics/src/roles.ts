/**
 * The roles. Messages on the TCP channel: one kind byte, then bytes.
 * - hospital -> aggregator: 'B' + signed BFV contribution (counts), 'C' + signed CKKS
 *   contribution (sums); the aggregator answers 'K' (kept) or 'E' + error code.
 * - analyst -> aggregator: 'R'; the aggregator answers 'B' + the signed count contributions and
 *   'C' + the signed sum contributions (each list: count u32, then u32-prefixed items), or
 *   'E' + error code (e.g. fewer than 10 hospitals so far).
 *
 * The aggregator is not trusted: it checks every contribution (signature of a registered
 * hospital, context, size, every coefficient, one per hospital) only to refuse bad ones early,
 * and relays them; the analyst's key holders add them up themselves and decrypt each sum once.
 */
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import {
  ByteReader,
  ByteWriter,
  bytesToUtf8,
  type Channel,
  concatBytes,
  generateSigningKey,
  isUnseenError,
  streamChannel,
  utf8ToBytes,
} from '@unseen/core';
import { Aggregator, encryptContribution, signContribution } from '@unseen/homomorphic';
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
      resolve(streamChannel(socket, { timeoutMs: 60_000, maxMessageBytes: 64 << 20 })),
    );
    socket.once('error', reject);
  });
}

function encodeList(items: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter().u32(items.length);
  for (const item of items) w.varBytes(item);
  return w.finish();
}

function decodeList(bytes: Uint8Array): Uint8Array[] {
  const r = new ByteReader(bytes, 'contribution list');
  const n = r.u32('count');
  const out = Array.from({ length: n }, () => r.varBytes('contribution').slice());
  r.end();
  return out;
}

/** A hospital enrols: a signing key of its own, whose public key it gives the analyst. */
export function enrolHospital(keyFile: string): Uint8Array {
  const { secretKey, publicKey } = generateSigningKey();
  writeFileSync(keyFile, secretKey, { mode: 0o600 });
  return publicKey;
}

/**
 * The aggregator: no key; checks and keeps the signed contributions of one context; releases
 * them only once `min` hospitals have contributed.
 */
export async function runAggregator(
  bfvParams: Uint8Array,
  ckksParams: Uint8Array,
  context: Uint8Array,
  hospitals: readonly Uint8Array[],
  min: number,
): Promise<void> {
  const options = { context, contributors: hospitals, minContributions: min };
  const checks = {
    [B]: await Aggregator.create(bfvParams, options),
    [C]: await Aggregator.create(ckksParams, options),
  };
  const kept: Record<number, Uint8Array[]> = { [B]: [], [C]: [] };
  const server = createServer((socket: Socket) => {
    const channel = streamChannel(socket, { timeoutMs: 60_000, maxMessageBytes: 64 << 20 });
    void (async () => {
      try {
        for (;;) {
          const msg = await channel.receive();
          const kind = msg[0]!;
          try {
            if (kind === B || kind === C) {
              const body = msg.slice(1);
              checks[kind]!.add(body); // refuses a bad or repeated one; else nothing changes
              kept[kind]!.push(body);
            } else if (kind === R) {
              checks[B]!.result(); // ERR_POLICY_DENIED below `min` hospitals
              checks[C]!.result();
              // Said before sending: the analyst stops this process once it has them.
              console.log(
                `[aggregator] released the contributions of ${checks[B]!.count} hospitals`,
              );
              await channel.send(frame(B, encodeList(kept[B]!)));
              await channel.send(frame(C, encodeList(kept[C]!)));
              continue;
            } else throw new Error('unknown message');
            await channel.send(frame(K));
            console.log(
              `[aggregator] checked signed ${kind === B ? 'counts' : 'sums'} (${msg.length - 1} bytes); ${checks[B]!.count} count and ${checks[C]!.count} sum vectors so far`,
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

/** A hospital: local statistics of its own records, encrypted, signed for the context, sent. */
export async function runHospital(
  index: number,
  port: number,
  secretKey: Uint8Array,
  bfvParams: Uint8Array,
  ckksParams: Uint8Array,
  context: Uint8Array,
): Promise<void> {
  const patients = patientsOf(index);
  const stats = localStatistics(patients);
  const sign = { secretKey, context };
  const counts = signContribution(
    bfvParams,
    await encryptContribution(bfvParams, stats.counts, { pool: null }),
    sign,
  );
  const sums = signContribution(
    ckksParams,
    await encryptContribution(ckksParams, stats.sums, { pool: null }),
    sign,
  );
  const channel = await openChannel(port);
  for (const [kind, bytes] of [
    [B, counts],
    [C, sums],
  ] as const) {
    await channel.send(frame(kind, bytes));
    const reply = await channel.receive();
    if (reply[0] !== K) throw new Error(`aggregator refused: ${bytesToUtf8(reply.subarray(1))}`);
  }
  // The same contribution again is refused: one per hospital and context.
  await channel.send(frame(B, counts));
  const again = await channel.receive();
  channel.close();
  console.log(
    `[hospital ${index + 1}] ${patients.length} patients; sent ${counts.length + sums.length} signed encrypted bytes (a resend: ${again[0] === E ? bytesToUtf8(again.subarray(1)) : 'kept!'})`,
  );
}

/** The analyst's request for the contributions. */
export async function fetchContributions(
  port: number,
): Promise<{ counts: Uint8Array[]; sums: Uint8Array[] } | { error: string }> {
  const channel = await openChannel(port);
  try {
    await channel.send(frame(R));
    const first = await channel.receive();
    if (first[0] === E) return { error: bytesToUtf8(first.subarray(1)) };
    const second = await channel.receive();
    return { counts: decodeList(first.subarray(1)), sums: decodeList(second.subarray(1)) };
  } finally {
    channel.close();
  }
}
