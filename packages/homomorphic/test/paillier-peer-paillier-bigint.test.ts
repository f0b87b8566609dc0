// Cross-check against an independent implementation: paillier-bigint 3.4.3.
import { generatePaillierKeys, modInverse } from '@unseen/homomorphic';
import * as peer from 'paillier-bigint';
import { beforeAll, describe, expect, it } from 'vitest';

let ours: Awaited<ReturnType<typeof generatePaillierKeys>>;
let theirs: { publicKey: peer.PublicKey; privateKey: peer.PrivateKey };

beforeAll(async () => {
  ours = await generatePaillierKeys({ bits: 2048 });
  const { p, q } = ours.privateKey.primes;
  const n = ours.publicKey.n;
  // The same key in paillier-bigint's form: g = n + 1, lambda = phi(n), mu = lambda^-1 mod n.
  const lambda = (p - 1n) * (q - 1n);
  const publicKey = new peer.PublicKey(n, n + 1n);
  theirs = {
    publicKey,
    privateKey: new peer.PrivateKey(lambda, modInverse(lambda, n), publicKey, p, q),
  };
}, 120_000);

describe('Paillier against paillier-bigint 3.4.3', () => {
  it('they decrypt our ciphertexts (both randomizers) and we decrypt theirs', () => {
    for (const m of [0n, 1n, 42n, (1n << 2000n) + 12345n, ours.publicKey.n - 1n]) {
      expect(theirs.privateKey.decrypt(ours.publicKey.encrypt(m))).toBe(m);
      expect(theirs.privateKey.decrypt(ours.publicKey.encrypt(m, 'full'))).toBe(m);
      expect(ours.privateKey.decrypt(theirs.publicKey.encrypt(m))).toBe(m);
    }
  });

  it('gives the same plaintext sums and scalar products', () => {
    const values = Array.from({ length: 20 }, (_, i) => BigInt(i * i * 1_000_003));
    const total = values.reduce((a, b) => a + b, 0n);
    const oursSum = ours.publicKey.sum(values.map((v) => ours.publicKey.encrypt(v)));
    const theirSum = theirs.publicKey.addition(...values.map((v) => theirs.publicKey.encrypt(v)));
    expect(ours.privateKey.decrypt(oursSum)).toBe(total);
    expect(theirs.privateKey.decrypt(theirSum)).toBe(total);
    // Mixed: our ciphertexts summed by their code, theirs multiplied by ours.
    const mixed = theirs.publicKey.addition(...values.map((v) => ours.publicKey.encrypt(v)));
    expect(ours.privateKey.decrypt(mixed)).toBe(total);
    expect(ours.privateKey.decrypt(ours.publicKey.multiply(theirSum, 3n))).toBe(3n * total);
    expect(theirs.privateKey.decrypt(theirs.publicKey.multiply(oursSum, 5n))).toBe(5n * total);
  });
});
