/**
 * Paillier encryption of sum-mode values as a worker task body (kept apart from `sum.ts` so the
 * task module imports no protocol code).
 * @module
 */

/** Encrypts `values` under a serialized public key; ciphertexts back to back. */
export async function encryptValuesTask(
  publicKey: Uint8Array,
  values: bigint[],
): Promise<Uint8Array> {
  const { PaillierPublicKey } = await import('@unseen/homomorphic');
  const pk = PaillierPublicKey.fromBytes(publicKey);
  if (values.length > 8) pk.precompute(); // the fixed-base table pays for itself after a few
  const size = pk.ciphertextBytes;
  const out = new Uint8Array(values.length * size);
  for (let i = 0; i < values.length; i++)
    out.set(pk.encodeCiphertext(pk.encrypt(values[i]!)), i * size);
  return out;
}
