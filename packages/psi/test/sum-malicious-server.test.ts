/**
 * sum mode against a malicious server (audit H1). The server rewrites its setup's Paillier part:
 * a key whose DJN base is hs = n^2 - 1 (order 2, a unit, so it passes every check a client can
 * make on it) and entry j encrypted with the random factor prime_j^n. If the client re-randomised
 * with hs, the randomness of its query would be +-prod(prime_j^n) over its matches, and the
 * server would factor the matched positions out of it. The client re-randomises with its own
 * r^n, so the n-th root the server extracts is a uniform unit, not a product of its primes.
 *
 * Also: the setup's modulus must come with a valid proof of gcd(n, phi(n)) = 1, and an invalid
 * ciphertext anywhere in the setup fails the client whether or not it matched that entry (an
 * error that depended on the matches would tell the server, which waits for the sum query).
 */
import { isUnseenError } from '@unseen/core';
import {
  bytesToBigint,
  generatePaillierKeys,
  modInverse,
  modPow,
  PaillierPublicKey,
} from '@unseen/homomorphic';
import { describe, expect, it } from 'vitest';
import { PsiClient, PsiServer } from '../src/index.js';
import { proveCoprime } from '../src/modulus-proof.js';
import { decodeSetup, encodeSetup, type SetupData } from '../src/setup.js';
import { decodeSumQuery } from '../src/wire.js';
import { testPool } from './helpers.js';

const pool = testPool(2);
const PRIMES = [3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n];
const SERVER = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];

async function honestSetup(): Promise<{ server: PsiServer<'sum'>; setup: SetupData }> {
  const server = await PsiServer.create({
    items: SERVER,
    mode: 'sum',
    values: SERVER.map((_, i) => i + 1),
    paillierBits: 2048,
    pool,
  });
  return { server, setup: decodeSetup(await server.setup()) };
}

async function finishCode(
  server: PsiServer<'sum'>,
  setup: Uint8Array,
  items: string[],
): Promise<string> {
  const client = await PsiClient.create({ items, mode: 'sum', pool });
  const response = await server.respond(await client.request());
  try {
    await client.finish(setup, response);
    return 'none';
  } catch (e) {
    return isUnseenError(e) ? e.code : `other: ${String(e)}`;
  }
}

/** Strips every planted prime from x; 1 means x was a product of them (the attack worked). */
function cofactor(x: bigint): bigint {
  let y = x;
  for (const p of PRIMES) while (y % p === 0n) y /= p;
  return y;
}

describe('sum mode, malicious server', () => {
  it('hs of order 2 and planted random factors: the sum query does not reveal the matches', async () => {
    const { server, setup: s } = await honestSetup();
    const { publicKey, privateKey } = await generatePaillierKeys({ bits: 2048, djn: false });
    const { n, n2 } = publicKey;
    const evil = new PaillierPublicKey(n, n2 - 1n); // accepted: a unit of Z_{n^2}
    const size = evil.ciphertextBytes;
    s.publicKey = evil.toBytes();
    // a valid proof: the modulus itself is sound, the attack is in hs and the random factors
    const { p, q } = privateKey.primes;
    s.modulusProof = proveCoprime(p, q);
    s.ciphertextBytes = size;
    s.ciphertexts = new Uint8Array(s.entries * size);
    for (let j = 0; j < s.entries; j++) {
      const c = evil.encryptWith(1n, modPow(PRIMES[j]!, n, n2));
      s.ciphertexts.set(evil.encodeCiphertext(c), j * size);
    }
    const evilSetup = encodeSetup(s);

    for (const clientItems of [
      ['carol', 'zoe', 'heidi', 'yann'],
      ['alice', 'bob', 'carol'],
      ['dave'],
    ]) {
      const client = await PsiClient.create({ items: clientItems, mode: 'sum', pool });
      const response = await server.respond(await client.request());
      const { cardinality, sumQuery } = await client.finish(evilSetup, response);
      expect(cardinality).toBe(clientItems.filter((x) => SERVER.includes(x)).length);
      // the server's analysis of the query
      const c = bytesToBigint(decodeSumQuery(sumQuery).ciphertext);
      const m = privateKey.decrypt(c);
      const randomPart = (c * modInverse((1n + m * n) % n2, n2)) % n2;
      const root = modPow(randomPart % n, modInverse(n, (p - 1n) * (q - 1n)), n);
      // with hs = -1 re-randomisation, root or n - root would be the product of the matched
      // entries' primes; with the client's own r^n it is a uniform unit
      expect(cofactor(root)).not.toBe(1n);
      expect(cofactor(n - root)).not.toBe(1n);
    }
  }, 300_000);

  it('a setup without a valid modulus proof is refused (ERR_INTEGRITY)', async () => {
    const { server, setup: s } = await honestSetup();
    const flipped = { ...s, modulusProof: s.modulusProof!.slice() };
    flipped.modulusProof[10]! ^= 1;
    expect(await finishCode(server, encodeSetup(flipped), ['bob'])).toBe('ERR_INTEGRITY');
    const empty = { ...s, modulusProof: new Uint8Array(0) };
    expect(await finishCode(server, encodeSetup(empty), ['bob'])).toBe('ERR_INTEGRITY');
    // the honest setup passes
    expect(await finishCode(server, encodeSetup(s), ['bob'])).toBe('none');
  }, 120_000);

  it('an invalid ciphertext fails the client whether or not it matched that entry', async () => {
    const { server, setup: s } = await honestSetup();
    const size = s.ciphertextBytes!;
    const broken = { ...s, ciphertexts: s.ciphertexts!.slice() };
    broken.ciphertexts.fill(0, 0, size); // entry 0: c = 0, not a unit
    const setup = encodeSetup(broken);
    // no match at all, every item matched, and one match: the same error
    expect(await finishCode(server, setup, ['zoe', 'yann'])).toBe('ERR_MALFORMED_MESSAGE');
    expect(await finishCode(server, setup, SERVER)).toBe('ERR_MALFORMED_MESSAGE');
    expect(await finishCode(server, setup, ['grace'])).toBe('ERR_MALFORMED_MESSAGE');
  }, 120_000);
});
