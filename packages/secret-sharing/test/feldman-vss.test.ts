import { ristretto255, ristretto255_FROST } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, isUnseenError, randomBytes } from '@unseen/core';
import { feldman, RISTRETTO255_ORDER, type ScalarShare } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf, subsets } from './helpers.js';
import vector from './vectors/rfc9591-ristretto255-dealer.json' with { type: 'json' };

const Point = ristretto255.Point;
const q = RISTRETTO255_ORDER;
const le = (hex: string): bigint => BigInt(`0x${bytesToHex(hexToBytes(hex).reverse())}`);
const leHex = (v: bigint): string => bytesToHex(Point.Fn.toBytes(v));
const evalPoly = (coefficients: bigint[], x: bigint): bigint =>
  coefficients.reduceRight((acc, a) => (acc * x + a) % q, 0n);
// A random non-zero scalar below 2^248 + 1 (< order).
const randomScalar = (): bigint => 1n + BigInt(`0x${bytesToHex(randomBytes(31))}`);

describe('feldman VSS on ristretto255', () => {
  it('matches the RFC 9591 ristretto255 trusted-dealer vectors', () => {
    const s = le(vector.group_secret_key);
    const a1 = le(vector.share_polynomial_coefficients[0]!);
    const commitments = [s, a1].map((a) => Point.BASE.multiply(a).toBytes());
    expect(bytesToHex(commitments[0]!)).toBe(vector.group_public_key);
    for (const p of vector.participant_shares) {
      const share = { index: p.identifier, value: le(p.participant_share) };
      expect(leHex(evalPoly([s, a1], BigInt(p.identifier)))).toBe(p.participant_share);
      expect(feldman.verifyShare(share, commitments, 2)).toBe(true);
      expect(bytesToHex(feldman.encodeShare(share).subarray(2))).toBe(p.participant_share);
    }
    const shares = vector.participant_shares.map((p) => ({
      index: p.identifier,
      value: le(p.participant_share),
    }));
    expect(feldman.combine([shares[0]!, shares[2]!], commitments)).toBe(s);
  });

  it('agrees with the FROST trusted dealer of @noble/curves in both directions', () => {
    const ids = [1, 2, 3, 4].map((i) => ristretto255_FROST.Identifier.fromNumber(i));
    const theirs = ristretto255_FROST.trustedDealer({ min: 3, max: 4 }, ids);
    for (const [i, id] of ids.entries()) {
      const value = le(bytesToHex(theirs.secretShares[id]!.signingShare));
      expect(feldman.verifyShare({ index: i + 1, value }, theirs.public.commitments, 3)).toBe(true);
      expect(bytesToHex(feldman.publicShare(i + 1, theirs.public.commitments))).toBe(
        bytesToHex(theirs.public.verifyingShares[id]!),
      );
    }
    const ours = feldman.deal(randomScalar(), { shares: 4, threshold: 3 });
    const pub = {
      signers: { min: 3, max: 4 },
      commitments: ours.commitments,
      verifyingShares: Object.fromEntries(
        ids.map((id, i) => [id, feldman.publicShare(i + 1, ours.commitments)]),
      ),
    };
    for (const [i, id] of ids.entries()) {
      const secret = { identifier: id, signingShare: Point.Fn.toBytes(ours.shares[i]!.value) };
      expect(() => ristretto255_FROST.validateSecret(secret, pub)).not.toThrow();
    }
  });

  it('every threshold subset combines to the secret, and C_0 = s * G', () => {
    const secret = randomScalar();
    const { commitments, shares } = feldman.deal(secret, { shares: 5, threshold: 3 });
    expect(commitments).toHaveLength(3);
    expect(Point.fromBytes(commitments[0]!).equals(Point.BASE.multiply(secret))).toBe(true);
    for (const s of shares) expect(feldman.verifyShare(s, commitments, 3)).toBe(true);
    for (const subset of subsets(5, 3)) {
      expect(
        feldman.combine(
          subset.map((i) => shares[i]!),
          commitments,
        ),
      ).toBe(secret);
    }
  });

  it('a tampered share is caught by verifyShare and by combine (property)', () => {
    const { commitments, shares } = feldman.deal(12345n, { shares: 4, threshold: 3 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.bigInt({ min: 1n, max: q - 1n }),
        (i, delta) => {
          const bad = { index: shares[i]!.index, value: (shares[i]!.value + delta) % q };
          expect(feldman.verifyShare(bad, commitments)).toBe(false);
          const others = shares.filter((_, k) => k !== i).slice(0, 2);
          expect(codeOf(() => feldman.combine([bad, ...others], commitments))).toBe(
            'ERR_INVALID_SHARE',
          );
          // A share moved to another index does not verify either.
          const moved = { index: (shares[i]!.index % 4) + 1, value: shares[i]!.value };
          expect(feldman.verifyShare(moved, commitments)).toBe(false);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('a cheating dealer is caught: shares off a degree-(t-1) polynomial, or commitments of another degree', () => {
    const t = 3;
    const coefficients = [5n, randomScalar(), randomScalar(), randomScalar()]; // degree t
    const committed = coefficients.slice(0, t).map((a) => Point.BASE.multiply(a).toBytes());
    const shares: ScalarShare[] = [1, 2, 3, 4, 5].map((i) => ({
      index: i,
      value: evalPoly(coefficients, BigInt(i)),
    }));
    // The dealer shares a degree-t polynomial but commits to t coefficients: every share fails.
    for (const s of shares) expect(feldman.verifyShare(s, committed, t)).toBe(false);
    // The dealer publishes all t + 1 commitments: parties expecting threshold t refuse them.
    const all = coefficients.map((a) => Point.BASE.multiply(a).toBytes());
    for (const s of shares) expect(feldman.verifyShare(s, all)).toBe(true);
    expect(codeOf(() => feldman.verifyShare(shares[0]!, all, t))).toBe('ERR_PARAMETER_MISMATCH');
    // The dealer gives one party a share of another polynomial: that party catches it.
    const honest = feldman.deal(99n, { shares: 5, threshold: t });
    const other = feldman.deal(98n, { shares: 5, threshold: t });
    const dealt = honest.shares.map((s, i) => (i === 2 ? other.shares[2]! : s));
    expect(dealt.map((s) => feldman.verifyShare(s, honest.commitments, t))).toEqual([
      true,
      true,
      false,
      true,
      true,
    ]);
  });

  it('bad input gives typed errors', () => {
    const { commitments, shares } = feldman.deal(3n, { shares: 3, threshold: 2 });
    expect(codeOf(() => feldman.deal(0n, { shares: 3, threshold: 2 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => feldman.deal(q, { shares: 3, threshold: 2 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => feldman.deal(1n, { shares: 3, threshold: 4 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    const identity = new Uint8Array(32);
    expect(codeOf(() => feldman.verifyShare(shares[0]!, [commitments[0]!, identity]))).toBe(
      'ERR_INVALID_POINT',
    );
    const nonCanonical = new Uint8Array(32).fill(0xff);
    expect(codeOf(() => feldman.verifyShare(shares[0]!, [commitments[0]!, nonCanonical]))).toBe(
      'ERR_INVALID_POINT',
    );
    expect(codeOf(() => feldman.verifyShare(shares[0]!, [commitments[0]!]))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    expect(codeOf(() => feldman.verifyShare({ index: 0, value: 1n }, commitments))).toBe(
      'ERR_INVALID_SHARE',
    );
    expect(codeOf(() => feldman.verifyShare({ index: 1, value: q }, commitments))).toBe(
      'ERR_INVALID_SHARE',
    );
    expect(codeOf(() => feldman.combine([shares[0]!], commitments))).toBe(
      'ERR_INSUFFICIENT_SHARES',
    );
    expect(codeOf(() => feldman.combine([shares[0]!, shares[0]!]))).toBe('ERR_INVALID_SHARE');
    expect(codeOf(() => feldman.combine([shares[0]!, shares[0]!], commitments))).toBe(
      'ERR_INVALID_SHARE',
    );
  });

  it('shares and commitments round-trip through bytes; malformed bytes are refused (fuzz)', () => {
    const { commitments, shares } = feldman.deal(77n, { shares: 3, threshold: 2 });
    const cBytes = feldman.encodeCommitments(commitments);
    expect(feldman.decodeCommitments(cBytes, 2)).toEqual(commitments);
    expect(codeOf(() => feldman.decodeCommitments(cBytes, 3))).toBe('ERR_PARAMETER_MISMATCH');
    expect(codeOf(() => feldman.decodeCommitments(cBytes.subarray(1)))).toBe(
      'ERR_MALFORMED_MESSAGE',
    );
    const sBytes = feldman.encodeShare(shares[1]!);
    expect(feldman.decodeShare(sBytes)).toEqual(shares[1]);
    const big = sBytes.slice();
    big.fill(0xff, 2);
    expect(codeOf(() => feldman.decodeShare(big))).toBe('ERR_INVALID_SHARE');
    expect(codeOf(() => feldman.decodeShare(Uint8Array.of(0, 0, ...sBytes.subarray(2))))).toBe(
      'ERR_INVALID_SHARE',
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (junk) => {
        for (const decode of [
          () => feldman.decodeShare(junk),
          () => feldman.decodeCommitments(junk),
        ]) {
          try {
            decode();
          } catch (e) {
            expect(isUnseenError(e)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
