// The IND-CPA^D attack of Li and Micciancio (EUROCRYPT 2021) against the key holder's CKKS
// decryption, run as the party that holds the ciphertexts (an aggregator, a federated server)
// and gets a decrypted sum back. The real parts of a released ciphertext (its first N/2 values)
// give d + conj(d) of its decryption d = c0 + c1 s: N/2 linear equations in the secret key s per
// ciphertext; a sum of two ciphertexts gives two equations per pair of NTT slots, and s follows
// by 2x2 solves modulo q. With s, every single contribution decrypts. (The imaginary parts,
// released too, would give the rest of d; the real parts suffice.)
//
// Unflooded, this recovers every contributor's input (all 2048 values of a ciphertext, run with
// flooding switched off). With the key holder's noise
// flooding and rounding, the released values carry noise far above the secret-dependent error,
// and the attack recovers nothing.
import { Prg } from '@unseen/core';
import {
  Aggregator,
  clearEncryptionSessions,
  createKeyHolder,
  encryptContribution,
  modInverse,
} from '@unseen/homomorphic';
import SEALModule from 'node-seal';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeVectorParams, TYPE_CONTRIBUTION, TYPE_SUM } from '../src/seal/params.js';
import { decodeContribution, unpackWords } from '../src/seal/wire.js';

afterAll(() => clearEncryptionSessions());

// biome-ignore lint/suspicious/noExplicitAny: node-seal 6 ships `any` for its objects.
type Seal = any;

async function loadSeal(): Promise<Seal> {
  const mod = SEALModule as unknown as { default?: () => Promise<Seal> };
  const factory = (typeof mod === 'function' ? mod : mod.default) as () => Promise<Seal>;
  return factory();
}

/** What the attacker knows: public parameters, ciphertexts, and the released decryption. */
async function recoverInput(
  publicParams: Uint8Array,
  encryptedSum: Uint8Array,
  released: Float64Array,
  victim: Uint8Array,
): Promise<Float64Array> {
  const p = decodeVectorParams(publicParams);
  expect(p.levelPrimes).toBe(1); // the attack below works modulo the single data prime
  const n = p.polyModulusDegree;
  const slots = n / 2;
  const q = p.coeffModulus[0]!;
  const scale = 2 ** p.scaleBits;
  const seal = await loadSeal();
  const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
  parms.setPolyModulusDegree(n);
  parms.setCoeffModulus(
    seal.CoeffModulus.Create(n, Int32Array.from(p.coeffModulus.map((x) => x.toString(2).length))),
  );
  const context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  const encoder = seal.CKKSEncoder(context);
  const evaluator = seal.Evaluator(context);
  const pk = seal.PublicKey();
  pk.loadArray(context, p.publicKey);
  const encryptor = seal.Encryptor(context, pk);
  // Ciphertexts as NTT-domain words modulo q: [c0[], c1[]] per ciphertext.
  const mod = (x: bigint) => ((x % q) + q) % q;
  const polys = (bytes: Uint8Array, type: number): bigint[][][] => {
    const w = unpackWords(p, decodeContribution(p, bytes, type as never).body);
    const at = (i: number) => BigInt(w[2 * i]!) + (BigInt(w[2 * i + 1]!) << 32n);
    return Array.from({ length: p.ciphertexts }, (_, c) =>
      [0, 1].map((poly) => Array.from({ length: n }, (_, j) => at((2 * c + poly) * n + j))),
    );
  };
  const template = (sc: number): Uint8Array => {
    const pt = seal.PlainText();
    encoder.encode(new Float64Array(slots), sc, pt);
    const ct = seal.CipherText();
    encryptor.encrypt(pt, ct);
    return new Uint8Array(ct.saveArray(seal.ComprModeType.none));
  };
  const load = (sc: number, c0: bigint[], c1: bigint[]) => {
    const bytes = template(sc);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const start = bytes.length - 2 * n * 8;
    for (let j = 0; j < n; j++) {
      view.setBigUint64(start + 8 * j, c0[j]!, true);
      view.setBigUint64(start + 8 * (n + j), c1[j]!, true);
    }
    const ct = seal.CipherText();
    ct.loadArray(context, bytes);
    return ct;
  };
  const zero = new Array<bigint>(n).fill(0n);
  const ones = new Array<bigint>(n).fill(1n); // c1 = 0 would be refused as transparent
  // A plaintext's NTT words: add it to a ciphertext with c0 = 0 and read c0.
  const nttOf = (pt: Seal, sc: number): bigint[] => {
    const out = seal.CipherText();
    evaluator.addPlain(load(sc, zero, ones), pt, out);
    const bytes = new Uint8Array(out.saveArray(seal.ComprModeType.none));
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const start = bytes.length - 2 * n * 8;
    return Array.from({ length: n }, (_, j) => view.getBigUint64(start + 8 * j, true));
  };
  // X -> X^-1 permutes SEAL's bit-reversed NTT slots as j -> j xor (N - 1).
  const partner = (j: number) => j ^ (n - 1);
  const sums = polys(encryptedSum, TYPE_SUM);
  // Released reals at scale 2 Delta encode to exactly d + conj(d) (integer coefficients).
  const rhs = sums.slice(0, 2).map(([c0], k) => {
    const z = new Float64Array(slots);
    z.set(released.subarray(k * n, k * n + slots)); // the real parts of ciphertext k
    const pt = seal.PlainText();
    encoder.encode(z, 2 * scale, pt);
    const sym = nttOf(pt, 2 * scale);
    return sym.map((v, j) => mod(v - c0![j]! - c0![partner(j)]!)); // = A1[j] S[j] + A1[j'] S[j']
  });
  const a = sums[0]![1]!;
  const b = sums[1]![1]!;
  const s = new Array<bigint>(n);
  for (let j = 0; j < n; j++) {
    const jj = partner(j);
    if (jj < j) continue;
    const inv = modInverse(mod(a[j]! * b[jj]! - a[jj]! * b[j]!), q);
    s[j] = mod((rhs[0]![j]! * b[jj]! - a[jj]! * rhs[1]![j]!) * inv);
    s[jj] = mod((a[j]! * rhs[1]![j]! - rhs[0]![j]! * b[j]!) * inv);
  }
  // The victim's first ciphertext, decrypted with the recovered key: (x0 + x1 s, 0) decrypts to
  // x0 + x1 s under any key.
  const [[x0, x1]] = polys(victim, TYPE_CONTRIBUTION) as [bigint[][]];
  const d = x0!.map((v, j) => mod(v + x1![j]! * s[j]!));
  const anyKey = seal.KeyGenerator(context).secretKey();
  const out = seal.PlainText();
  seal.Decryptor(context, anyKey).decrypt(load(scale, d, zero), out);
  return Float64Array.from(encoder.decode(out) as Float64Array);
}

describe('IND-CPA^D key recovery (Li and Micciancio 2021) against decrypted CKKS sums', () => {
  it('fails: the flooded, rounded sum gives the holder of the ciphertexts nothing', async () => {
    // Parameters small enough that doubles carry the decryption error exactly: unflooded, the
    // attack recovers every input to within 1e-6 here.
    const length = 8192; // two ciphertexts of 2048 slots, two values per slot
    const holder = await createKeyHolder({
      scheme: 'ckks',
      length,
      maxContributions: 4,
      precision: 0.5,
      statisticalSecurity: 16,
      maxDecryptions: 1,
    });
    try {
      expect(holder.info.scaleBits).toBeLessThanOrEqual(46);
      const prg = await Prg.create(new Uint8Array(16).fill(7));
      const words = await prg.uint32s(4 * length);
      const inputs = Array.from({ length: 4 }, (_, c) =>
        Float64Array.from(
          words.subarray(c * length, (c + 1) * length),
          (w) => 2 * (w / 2 ** 32) - 1,
        ),
      );
      const contributions = await Promise.all(
        inputs.map((x) => encryptContribution(holder.publicParams, x, { pool: null })),
      );
      const aggregator = await Aggregator.create(holder.publicParams);
      for (const c of contributions) aggregator.add(c);
      const encryptedSum = aggregator.result();
      const released = await holder.decrypt(encryptedSum);
      // The released sum is still within the stated bound of the true sum...
      for (let i = 0; i < length; i++) {
        const truth = inputs.reduce((acc, x) => acc + x[i]!, 0);
        expect(Math.abs(released[i]! - truth)).toBeLessThanOrEqual(holder.info.errorBound);
      }
      // ... but the key recovered from it decrypts the victim's contribution to noise.
      const recovered = await recoverInput(
        holder.publicParams,
        encryptedSum,
        released,
        contributions[0]!,
      );
      let close = 0;
      for (let i = 0; i < 2048; i++) {
        if (Math.abs(recovered[i]! - inputs[0]![i]!) < 1e-3) close++;
      }
      expect(close).toBeLessThan(10); // chance agreement only (values in [-1, 1])
    } finally {
      holder.dispose();
    }
  }, 120_000);
});
