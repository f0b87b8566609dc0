/**
 * Worker tasks of @unseen/homomorphic: CKKS/BFV encryption of a run of ciphertexts (one SEAL
 * instance per worker, cached per parameter set) and Paillier randomizers r^n mod n^2.
 * Evaluated in every pool worker; imports only what the tasks use.
 * @module
 */
import { bytesToHex, sha256 } from '@unseen/core';
import { defineTasks } from '@unseen/workers';
import { PaillierPrivateKey, PaillierPublicKey } from './paillier/paillier.js';
import { decodeVectorParams } from './seal/params.js';
import { encryptionSession } from './seal/sessions.js';

/** Encrypts `count` ciphertexts of `values` under `publicParams`; returns their data words. */
export async function encryptCiphertexts(
  publicParams: Uint8Array,
  values: Float64Array | BigInt64Array,
  count: number,
): Promise<Uint32Array> {
  const params = decodeVectorParams(publicParams);
  const session = await encryptionSession(params);
  const out = new Uint32Array(count * session.ciphertextWords);
  session.encryptWords(values, count, 2 ** params.scaleBits, out);
  return out;
}

/** Public keys decoded in this thread, with their fixed-base tables (a few, most recent). */
const publicKeys = new Map<string, PaillierPublicKey>();

function publicKeyOf(bytes: Uint8Array): PaillierPublicKey {
  const id = bytesToHex(sha256(bytes));
  let key = publicKeys.get(id);
  if (key === undefined) {
    key = PaillierPublicKey.fromBytes(bytes);
    publicKeys.set(id, key);
    while (publicKeys.size > 4) publicKeys.delete(publicKeys.keys().next().value as string);
  }
  return key;
}

/** The last private key decoded here (decoding checks primality: too slow to repeat per call). */
let lastPrivate: { id: string; key: PaillierPrivateKey } | undefined;

function privateKeyOf(bytes: Uint8Array): PaillierPrivateKey {
  const id = bytesToHex(sha256(bytes));
  if (lastPrivate?.id !== id) lastPrivate = { id, key: PaillierPrivateKey.fromBytes(bytes) };
  return lastPrivate.key;
}

export const homomorphicTasks = defineTasks('@unseen/homomorphic', import.meta.url, {
  encryptCiphertexts,
  /** `count` fresh Paillier randomizers r^n mod n^2 for the key in `publicKey` (its bytes). */
  paillierRandomizers(publicKey: Uint8Array, count: number): bigint[] {
    const key = publicKeyOf(publicKey);
    if (count >= 8) key.precompute();
    return Array.from({ length: count }, () => key.randomizer());
  },
  /** Paillier encryptions of `plaintexts` (each in [0, n)). */
  paillierEncrypt(publicKey: Uint8Array, plaintexts: bigint[]): bigint[] {
    const key = publicKeyOf(publicKey);
    if (plaintexts.length >= 8) key.precompute();
    return plaintexts.map((m) => key.encrypt(m));
  },
  /** CRT decryptions of `ciphertexts` with the private key in `privateKey` (its bytes). */
  paillierDecrypt(privateKey: Uint8Array, ciphertexts: bigint[]): bigint[] {
    const key = privateKeyOf(privateKey);
    return ciphertexts.map((c) => key.decrypt(c));
  },
});
