/**
 * Feldman verifiable secret sharing (Feldman, "A practical scheme for non-interactive
 * verifiable secret sharing", FOCS 1987) on ristretto255 (RFC 9496) through @noble/curves.
 *
 * The dealer shares a scalar s with a random polynomial f of degree t - 1 (f(0) = s) and
 * publishes the commitments C_j = a_j * G to its coefficients. Party i receives f(i) and checks
 *
 *   f(i) * G == sum_j i^j * C_j
 *
 * so a wrong share is caught by its holder, and a dealer whose shares do not lie on one
 * polynomial of degree t - 1 (the one committed to) is caught by every party whose share is off
 * it. This is the `vss_commit` / `vss_verify` of RFC 9591 (FROST), Appendix C.2, and the tests
 * check it against RFC 9591's ristretto255 vectors and @noble/curves' FROST dealer.
 *
 * Security: the commitments hide s only computationally (C_0 = s * G reveals s to anyone who can
 * solve discrete logarithms in ristretto255, about 2^126 work); the shares of t - 1 parties are
 * still uniform. Every point is decoded canonically and the identity is refused.
 * @module
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { aint, ByteReader, ByteWriter, UnseenError } from '@unseen/core';
import { type ScalarShare, scalarShamir, splitWithCoefficients } from './scalar-shamir.js';

const Point = ristretto255.Point;
type RistrettoPoint = InstanceType<typeof Point>;

/** The order of the ristretto255 group, the modulus of the shared scalars. */
export const RISTRETTO255_ORDER: bigint = Point.Fn.ORDER;
/** Bytes of an encoded point and of an encoded scalar. */
export const RISTRETTO255_BYTES = 32;

/** What a dealer produces: public commitments and one private share per party. */
export interface FeldmanDeal {
  /** C_0..C_{t-1}: canonical ristretto255 encodings, 32 bytes each; C_0 = s * G. */
  commitments: Uint8Array[];
  /** Shares for parties 1..n. */
  shares: ScalarShare[];
}

/** Options of {@link feldman}.deal. */
export interface FeldmanDealOptions {
  shares: number;
  threshold: number;
}

/** Decodes one commitment: a canonical, non-identity ristretto255 encoding. */
function decodePoint(bytes: unknown, title: string): RistrettoPoint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== RISTRETTO255_BYTES) {
    throw new UnseenError('ERR_INVALID_POINT', `${title}: expected ${RISTRETTO255_BYTES} bytes`);
  }
  let p: RistrettoPoint;
  try {
    p = Point.fromBytes(bytes);
  } catch (cause) {
    throw new UnseenError('ERR_INVALID_POINT', `${title}: not a canonical ristretto255 encoding`, {
      cause,
    });
  }
  if (p.is0()) throw new UnseenError('ERR_INVALID_POINT', `${title}: the identity element`);
  return p;
}

/**
 * Decodes and checks a commitment list: every point valid, canonical and not the identity; and,
 * when given, exactly `threshold` of them (a longer list would commit to a higher degree).
 * @throws UnseenError `ERR_INVALID_POINT`, `ERR_PARAMETER_MISMATCH`
 */
function decodeCommitmentPoints(
  commitments: readonly Uint8Array[],
  threshold?: number,
): RistrettoPoint[] {
  if (!Array.isArray(commitments) || commitments.length < 2) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      'feldman: expected at least 2 commitments (threshold >= 2)',
    );
  }
  if (threshold !== undefined && commitments.length !== threshold) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `feldman: ${commitments.length} commitments for threshold ${threshold}: the dealer committed to a polynomial of another degree`,
      { details: { commitments: commitments.length, threshold } },
    );
  }
  return commitments.map((c, j) => decodePoint(c, `commitment ${j}`));
}

/** sum_j i^j * C_j by Horner in the group; i is public, so the variable-time multiply is fine. */
function evaluateCommitments(points: readonly RistrettoPoint[], index: number): RistrettoPoint {
  const x = BigInt(index);
  let acc = points[points.length - 1]!;
  for (let j = points.length - 2; j >= 0; j--) acc = acc.multiplyUnsafe(x).add(points[j]!);
  return acc;
}

function checkScalarShare(share: ScalarShare, title: string): void {
  if (typeof share !== 'object' || share === null) {
    throw new UnseenError('ERR_INVALID_SHARE', `${title}: expected { index, value }`);
  }
  if (!Number.isInteger(share.index) || share.index < 1 || share.index > 65_535) {
    throw new UnseenError('ERR_INVALID_SHARE', `${title}: index must be an integer in [1, 65535]`);
  }
  if (typeof share.value !== 'bigint' || share.value < 0n || share.value >= RISTRETTO255_ORDER) {
    throw new UnseenError('ERR_INVALID_SHARE', `${title}: value must be a scalar in [0, order)`);
  }
}

function deal(secret: bigint, options: FeldmanDealOptions): FeldmanDeal {
  if (typeof secret !== 'bigint' || secret <= 0n || secret >= RISTRETTO255_ORDER) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'feldman.deal: the secret must be a scalar in [1, order)',
    );
  }
  // Non-zero coefficients: a zero one would commit to the identity, which verifiers refuse.
  const { shares, coefficients } = splitWithCoefficients(
    secret,
    { shares: options?.shares, threshold: options?.threshold, modulus: RISTRETTO255_ORDER },
    true,
  );
  const commitments = coefficients.map((a) => Point.BASE.multiply(a).toBytes());
  coefficients.fill(0n);
  return { commitments, shares };
}

function verifyShare(
  share: ScalarShare,
  commitments: readonly Uint8Array[],
  threshold?: number,
): boolean {
  checkScalarShare(share, 'share');
  const points = decodeCommitmentPoints(commitments, threshold);
  const lhs = share.value === 0n ? Point.ZERO : Point.BASE.multiply(share.value);
  return lhs.equals(evaluateCommitments(points, share.index));
}

function combine(shares: readonly ScalarShare[], commitments?: readonly Uint8Array[]): bigint {
  if (commitments === undefined) return scalarShamir.combine(shares, RISTRETTO255_ORDER);
  const points = decodeCommitmentPoints(commitments);
  if (!Array.isArray(shares) || shares.length < points.length) {
    throw new UnseenError(
      'ERR_INSUFFICIENT_SHARES',
      `feldman.combine: ${Array.isArray(shares) ? shares.length : 0} shares for threshold ${points.length}`,
    );
  }
  shares.forEach((s, i) => {
    checkScalarShare(s, `share ${i}`);
    const lhs = s.value === 0n ? Point.ZERO : Point.BASE.multiply(s.value);
    if (!lhs.equals(evaluateCommitments(points, s.index))) {
      throw new UnseenError(
        'ERR_INVALID_SHARE',
        `feldman.combine: share ${s.index} does not match the commitments`,
        {
          details: { index: s.index },
        },
      );
    }
  });
  const secret = scalarShamir.combine(shares, RISTRETTO255_ORDER);
  if (!Point.BASE.multiply(secret).equals(points[0]!)) {
    throw new UnseenError(
      'ERR_INTEGRITY',
      'feldman.combine: the result does not match commitment C_0',
    );
  }
  return secret;
}

/** Encodes a share: `index u16 | value (32 bytes, little-endian, canonical)`. */
function encodeShare(share: ScalarShare): Uint8Array {
  checkScalarShare(share, 'share');
  return new ByteWriter(2 + RISTRETTO255_BYTES)
    .u16(share.index)
    .bytes(Point.Fn.toBytes(share.value))
    .finish();
}

function decodeShare(bytes: Uint8Array): ScalarShare {
  const r = new ByteReader(bytes, 'feldman share');
  const index = r.u16('index');
  const raw = r.bytes(RISTRETTO255_BYTES, 'value');
  r.end();
  let value = 0n;
  for (let k = raw.length - 1; k >= 0; k--) value = (value << 8n) | BigInt(raw[k]!);
  const share = { index, value };
  checkScalarShare(share, 'feldman share'); // index 0 or a non-canonical value (>= order)
  return share;
}

/** Encodes commitments: `count u16 | count * 32 bytes`. */
function encodeCommitments(commitments: readonly Uint8Array[]): Uint8Array {
  decodeCommitmentPoints(commitments);
  const w = new ByteWriter(2 + commitments.length * RISTRETTO255_BYTES).u16(commitments.length);
  for (const c of commitments) w.bytes(c);
  return w.finish();
}

function decodeCommitments(bytes: Uint8Array, threshold?: number): Uint8Array[] {
  const r = new ByteReader(bytes, 'feldman commitments');
  const count = r.u16('count');
  const out: Uint8Array[] = [];
  for (let j = 0; j < count; j++) out.push(r.bytes(RISTRETTO255_BYTES, `commitment ${j}`).slice());
  r.end();
  decodeCommitmentPoints(out, threshold);
  return out;
}

/**
 * Feldman VSS over ristretto255.
 * @example
 * ```ts
 * const { commitments, shares } = feldman.deal(secret, { shares: 5, threshold: 3 });
 * feldman.verifyShare(shares[0]!, commitments); // true: party 1 accepts its share
 * feldman.combine(shares.slice(2), commitments); // secret, every share checked first
 * ```
 */
export const feldman = {
  /**
   * Shares a scalar in [1, order) with commitments to the polynomial.
   * @throws UnseenError `ERR_INVALID_ARGUMENT`
   */
  deal,
  /**
   * True when the share lies on the committed polynomial. Pass the threshold you expect to also
   * refuse commitments to a polynomial of another degree.
   * @throws UnseenError `ERR_INVALID_SHARE` (malformed share), `ERR_INVALID_POINT`,
   * `ERR_PARAMETER_MISMATCH` (commitment count)
   */
  verifyShare,
  /**
   * Interpolates the secret. With commitments, checks every share and the result first.
   * @throws UnseenError `ERR_INSUFFICIENT_SHARES`, `ERR_INVALID_SHARE`, `ERR_INTEGRITY`
   */
  combine,
  /** The public key of party `index`: f(index) * G, from the commitments alone (32 bytes). */
  publicShare(index: number, commitments: readonly Uint8Array[]): Uint8Array {
    aint(index, 'index', 1, 65_535);
    return evaluateCommitments(decodeCommitmentPoints(commitments), index).toBytes();
  },
  encodeShare,
  /** @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_INVALID_SHARE` */
  decodeShare,
  encodeCommitments,
  /** @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_INVALID_POINT`, `ERR_PARAMETER_MISMATCH` */
  decodeCommitments,
} as const;
