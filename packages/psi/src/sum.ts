/**
 * Intersection-sum after Ion, Kreuter, Nergiz, Patel, Raykova, Saxena, Seth, Shanahan and Yung,
 * "On Deploying Secure Computing: Private Intersection-Sum-with-Cardinality" (EuroS&P 2020):
 * ECDH PSI for the matching plus Paillier encryption (additively homomorphic) of the values.
 *
 * In the paper, P2 holds (id, value) pairs and the Paillier key; P1 learns which of P2's blinded,
 * shuffled entries match its own ids, multiplies their ciphertexts into E(sum) and sends it to P2
 * to decrypt. Here the server is P2 and the client should learn the sum, so the client adds a
 * uniform mask rho in Z_n before sending: the server decrypts sum + rho (uniform, so it learns
 * nothing) and the client removes rho. Entries sit in the reusable setup (encrypted once), the
 * response is shuffled as in cardinality mode, and each entry carries a 64-bit check value so a
 * filter false positive never adds a wrong value.
 *
 * Against a server that builds its setup maliciously, the client (1) checks the proof that the
 * Paillier modulus n is coprime to phi(n) (modulus-proof.ts), (2) validates every ciphertext of
 * the setup, matched or not, so that whether it sends a query never depends on its matches, and
 * (3) re-randomises with its own r^n for a uniform unit r (Paillier's textbook randomness), never
 * with the DJN base hs the server published: a server could publish an hs of small order (hs =
 * -1 passes every check a client can make on it) and then recognise its own ciphertexts' random
 * factors in the query. With n proven sound, the query is uniform in Z*_{n^2} whatever the setup
 * holds (see modulus-proof.ts), so the server learns nothing from it but sum + rho.
 *
 * Messages: after the response, client -> server `sum query` (type 3) with the masked,
 * re-randomised E(sum + rho); server -> client `sum answer` (type 4) with sum + rho mod n. The
 * server answers one query per session it responded to, and only queries of its own setup; as a
 * session id is any 16 bytes the client chooses, this is bookkeeping, not a limit on what a
 * malicious client can ask (see the README).
 * @module
 */
import { bytesToHex, equalBytes, randomBytes, UnseenError } from '@unseen/core';
import type { PaillierPrivateKey, PaillierPublicKey } from '@unseen/homomorphic';
import { TAG_BYTES } from './group.js';
import type { ComputeOptions } from './parallel.js';
import { encryptValues } from './parallel.js';
import { type SetupData, SUM_CHECK_BYTES } from './setup.js';
import { decodeSumAnswer, decodeSumQuery, encodeSumAnswer, encodeSumQuery } from './wire.js';

/** A value attached to a server item in sum mode: a non-negative integer. */
export type SumValue = number | bigint;

/** Default Paillier modulus: 3072 bits, 128-bit security (NIST SP 800-57 part 1, table 2). */
export const DEFAULT_PAILLIER_BITS = 3072;

/** What a sum-mode server keeps: its Paillier key pair and the sessions awaiting a sum query. */
export interface SumServerState {
  publicKey: PaillierPublicKey;
  privateKey: PaillierPrivateKey;
  /** Sessions (hex) that received a response and may send one sum query. */
  pending: Map<string, number>;
}

/** What a sum-mode client keeps between its sum query and the answer. */
export interface SumClientState {
  mask: bigint;
  modulus: bigint;
  modulusBytes: number;
  cardinality: number;
}

/** A new server state (fresh Paillier keys), or one restored from an exported private key. */
export async function createSumServerState(
  bits?: number,
  privateKey?: Uint8Array,
): Promise<SumServerState> {
  // Loaded on first use, so that the other modes never load the Paillier code.
  const he = await import('@unseen/homomorphic');
  if (privateKey !== undefined) {
    const sk = he.PaillierPrivateKey.fromBytes(privateKey);
    return { publicKey: sk.publicKey, privateKey: sk, pending: new Map() };
  }
  const pair = await he.generatePaillierKeys({ bits: bits ?? DEFAULT_PAILLIER_BITS });
  return { publicKey: pair.publicKey, privateKey: pair.privateKey, pending: new Map() };
}

/**
 * Checks that no sum of the values can wrap modulo n: their total must be below n.
 * @throws UnseenError `ERR_OVERFLOW`
 */
export function checkValues(state: SumServerState, values: readonly bigint[]): void {
  let total = 0n;
  for (const v of values) total += v;
  if (total >= state.publicKey.n) {
    throw new UnseenError(
      'ERR_OVERFLOW',
      'sum mode: the values add up to the Paillier modulus or more',
    );
  }
}

/** The sum-mode part of the setup: public key, check values and ciphertexts in GCS order. */
export async function sumSetupExtras(
  state: SumServerState,
  values: bigint[],
  tags: Uint8Array,
  order: Uint32Array,
  compute: ComputeOptions,
): Promise<Partial<SetupData>> {
  const n = order.length;
  const checks = new Uint8Array(n * SUM_CHECK_BYTES);
  const sorted: bigint[] = new Array(n);
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    checks.set(
      tags.subarray(i * TAG_BYTES + 16, i * TAG_BYTES + 16 + SUM_CHECK_BYTES),
      j * SUM_CHECK_BYTES,
    );
    sorted[j] = values[i]!;
  }
  const publicKey = state.publicKey.toBytes();
  const ciphertexts = await encryptValues(publicKey, sorted, compute);
  const { proveCoprime } = await import('./modulus-proof.js');
  const { p, q } = state.privateKey.primes;
  return {
    publicKey,
    modulusProof: proveCoprime(p, q),
    ciphertextBytes: state.publicKey.ciphertextBytes,
    checks,
    ciphertexts,
  };
}

function toBigint(bytes: Uint8Array): bigint {
  let h = '0x0';
  for (const b of bytes) h += b.toString(16).padStart(2, '0');
  return BigInt(h);
}

function toBytes(x: bigint, length: number): Uint8Array {
  const h = x.toString(16).padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number.parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A uniform element of Z_n (64 extra random bits make the modular bias below 2^-64). */
function uniformBelow(n: bigint, bytes: number): bigint {
  return toBigint(randomBytes(bytes + 8)) % n;
}

/**
 * Client: checks the setup's Paillier key and every ciphertext (whatever matched), multiplies the
 * matched ciphertexts into E(sum), adds a fresh mask and re-randomises with its own randomness.
 * Every check runs on the whole setup before the matches are used, so an error never depends on
 * which entries matched.
 * @param matched setup positions (GCS order) of the matched entries
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (a ciphertext or the key of the setup is invalid),
 * `ERR_INTEGRITY` (the modulus proof fails)
 */
export async function sumQuery(
  setup: SetupData,
  matched: number[],
  session: Uint8Array,
): Promise<{ state: SumClientState; query: Uint8Array }> {
  const he = await import('@unseen/homomorphic');
  let pk: PaillierPublicKey;
  try {
    pk = he.PaillierPublicKey.fromBytes(setup.publicKey!);
  } catch (cause) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: invalid Paillier public key', { cause });
  }
  const size = setup.ciphertextBytes!;
  if (size !== pk.ciphertextBytes) {
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      'setup: ciphertext size does not match the public key',
    );
  }
  const { verifyCoprime } = await import('./modulus-proof.js');
  verifyCoprime(pk.n, setup.modulusProof!);
  const all = pk.decodeCiphertexts(setup.ciphertexts!); // validates every entry, matched or not
  const mask = uniformBelow(pk.n, pk.modulusBytes);
  // 'full': r^n for a uniform unit r drawn here; the server's DJN base hs is never used.
  const masked = pk.rerandomize(pk.addPlain(pk.sum(matched.map((pos) => all[pos]!)), mask), 'full');
  return {
    state: { mask, modulus: pk.n, modulusBytes: pk.modulusBytes, cardinality: matched.length },
    query: encodeSumQuery(session, setup.setupId, pk.encodeCiphertext(masked)),
  };
}

/**
 * Server: decrypts one masked sum for a session it answered, once.
 * @throws UnseenError `ERR_PARAMETER_MISMATCH` (another setup), `ERR_SESSION_MISMATCH` (no
 * response was sent to this session, or it already had its sum), `ERR_MALFORMED_MESSAGE`
 */
export async function sumDecryptQuery(
  state: SumServerState,
  message: Uint8Array,
  setupId: Uint8Array,
): Promise<Uint8Array> {
  const q = decodeSumQuery(message);
  if (!equalBytes(q.setupId, setupId)) {
    throw new UnseenError('ERR_PARAMETER_MISMATCH', 'sum query for another setup');
  }
  const key = bytesToHex(q.session);
  if (!state.pending.has(key)) {
    throw new UnseenError(
      'ERR_SESSION_MISMATCH',
      'sum query from a session without a response, or a second query',
    );
  }
  const c = state.publicKey.decodeCiphertext(q.ciphertext);
  state.pending.delete(key);
  const m = state.privateKey.decrypt(c);
  return encodeSumAnswer(q.session, toBytes(m, state.publicKey.modulusBytes));
}

/**
 * Client: removes the mask from the server's answer.
 * @throws UnseenError `ERR_SESSION_MISMATCH`, `ERR_MALFORMED_MESSAGE`
 */
export function sumFinish(
  state: SumClientState,
  answer: Uint8Array,
  session: Uint8Array,
): { cardinality: number; sum: bigint } {
  const value = decodeSumAnswer(answer, session);
  if (value.length !== state.modulusBytes) {
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      `sum answer: expected ${state.modulusBytes} bytes`,
    );
  }
  const masked = toBigint(value);
  if (masked >= state.modulus)
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'sum answer: not below n');
  const sum = (((masked - state.mask) % state.modulus) + state.modulus) % state.modulus;
  return { cardinality: state.cardinality, sum };
}
