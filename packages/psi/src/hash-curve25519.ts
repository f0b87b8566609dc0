/**
 * RFC 9380 `hash_to_curve` for the suite curve25519_XMD:SHA-512_ELL2_RO_ (section 8.5), returning
 * the u-coordinate of the output point: exactly the input X25519 takes. Many messages are hashed
 * at once so that the field inversions of the whole batch cost one exponentiation (Montgomery's
 * trick):
 *
 * 1. `(u0, u1) = hash_to_field(msg, 2)` with expand_message_xmd over SHA-512 (RFC 9380 5.2, 5.3.1;
 *    noble's audited expander);
 * 2. `Q0 = map_to_curve_elligator2_curve25519(u0)`, `Q1 = ...(u1)`: the straight-line map of
 *    RFC 9380 appendix G.2.1, one exponentiation each, x kept as a fraction;
 * 3. `R = Q0 + Q1` by the affine Montgomery addition law with the division deferred, then
 *    `P = clear_cofactor(R) = [8]R` by three x-only doublings (RFC 7748 ladder formulas) in
 *    projective (X : Z);
 * 4. `u = X / Z`, with the inverses of the whole batch computed together.
 *
 * The exceptional cases of step 3 (Q0 = +-Q1, or P the identity) have probability about 2^-250
 * for hashed inputs; they fall back to @noble/curves' complete edwards25519 implementation, which
 * is mapped to Montgomery form by the birational map of RFC 7748 (u = (1 + y) / (1 - y)).
 *
 * Tested against the RFC 9380 appendix J.7.1 vectors and against @noble/curves on random inputs.
 * @module
 */
import { ed25519_hasher } from '@noble/curves/ed25519.js';
import {
  add,
  batchInvert,
  canon,
  encodeLE,
  invert,
  mul,
  neg,
  P,
  pow22523,
  sqr,
  sub,
} from './field25519.js';
import { dstPrime, expandMessageXmd } from './xmd.js';

/** The Montgomery coefficient A of curve25519 (RFC 7748): v^2 = u^3 + A u^2 + u. */
const J = 486662n;
/** (A + 2) / 4, the ladder constant of RFC 7748. */
const A24 = 121666n;

function powMod(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = base % P;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

// RFC 9380 G.2.1 constants.
const C1 = (P + 3n) / 8n; // c1 = (p + 3) / 8
const C2 = powMod(2n, C1); // c2 = 2^c1
const C3 = powMod(2n, (P - 1n) / 4n); // c3 = sqrt(-1)

/** Bytes of hash_to_field output per field element: L = ceil((255 + 128) / 8) = 48. */
const L = 48;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** OS2IP of `bytes[from, from + L)` reduced mod p (RFC 9380 5.2 step 6). */
function fieldFromBytes(bytes: Uint8Array, from: number): bigint {
  let h = '0x';
  for (let i = from; i < from + L; i++) h += HEX[bytes[i]!];
  return BigInt(h) % P;
}

/** RFC 9380 `hash_to_field(msg, 2)` for the curve25519 suites; `prime` is DST_prime. */
export function hashToField25519(msg: Uint8Array, prime: Uint8Array): [bigint, bigint] {
  const uniform = expandMessageXmd(msg, prime, 2 * L);
  return [fieldFromBytes(uniform, 0), fieldFromBytes(uniform, L)];
}

/** A point of map_to_curve: x = xn / xd, y affine (RFC 9380 G.2.1 returns y / 1). */
interface MappedPoint {
  xn: bigint;
  xd: bigint;
  y: bigint;
}

/** RFC 9380 appendix G.2.1: map_to_curve_elligator2_curve25519, step by step. */
export function mapToCurveElligator2(u: bigint): MappedPoint {
  let tv1 = sqr(u); //                1.  tv1 = u^2
  tv1 = add(tv1, tv1); //             2.  tv1 = 2 * tv1
  const xd = add(tv1, 1n); //         3.   xd = tv1 + 1
  const x1n = P - J; //               4.  x1n = -J
  let tv2 = sqr(xd); //               5.  tv2 = xd^2
  const gxd = mul(tv2, xd); //        6.  gxd = tv2 * xd
  let gx1 = mul(J, tv1); //           7.  gx1 = J * tv1
  gx1 = mul(gx1, x1n); //             8.  gx1 = gx1 * x1n
  gx1 = add(gx1, tv2); //             9.  gx1 = gx1 + tv2
  gx1 = mul(gx1, x1n); //             10. gx1 = gx1 * x1n
  let tv3 = sqr(gxd); //              11. tv3 = gxd^2
  tv2 = sqr(tv3); //                  12. tv2 = tv3^2
  tv3 = mul(tv3, gxd); //             13. tv3 = tv3 * gxd
  tv3 = mul(tv3, gx1); //             14. tv3 = tv3 * gx1
  tv2 = mul(tv2, tv3); //             15. tv2 = tv2 * tv3
  let y11 = pow22523(tv2); //         16. y11 = tv2^c4
  y11 = mul(y11, tv3); //             17. y11 = y11 * tv3
  const y12 = mul(y11, C3); //        18. y12 = y11 * c3
  tv2 = sqr(y11); //                  19. tv2 = y11^2
  tv2 = mul(tv2, gxd); //             20. tv2 = tv2 * gxd
  const gx1c = canon(gx1);
  const e1 = canon(tv2) === gx1c; //  21.  e1 = tv2 == gx1
  const y1 = e1 ? y11 : y12; //       22.  y1 = CMOV(y12, y11, e1)
  const x2n = mul(x1n, tv1); //       23. x2n = x1n * tv1
  let y21 = mul(y11, u); //           24. y21 = y11 * u
  y21 = mul(y21, C2); //              25. y21 = y21 * c2
  const y22 = mul(y21, C3); //        26. y22 = y21 * c3
  const gx2 = mul(gx1, tv1); //       27. gx2 = gx1 * tv1
  tv2 = sqr(y21); //                  28. tv2 = y21^2
  tv2 = mul(tv2, gxd); //             29. tv2 = tv2 * gxd
  const e2 = canon(tv2) === canon(gx2); // 30. e2 = tv2 == gx2
  const y2 = e2 ? y21 : y22; //       31.  y2 = CMOV(y22, y21, e2)
  tv2 = sqr(y1); //                   32. tv2 = y1^2
  tv2 = mul(tv2, gxd); //             33. tv2 = tv2 * gxd
  const e3 = canon(tv2) === gx1c; //  34.  e3 = tv2 == gx1
  const xn = e3 ? x1n : x2n; //       35.  xn = CMOV(x2n, x1n, e3)
  let y = canon(e3 ? y1 : y2); //     36.   y = CMOV(y2, y1, e3)
  const e4 = (y & 1n) === 1n; //      37.  e4 = sgn0(y) == 1
  if (e3 !== e4) y = neg(y); //       38.   y = CMOV(y, -y, e3 XOR e4)
  return { xn, xd, y }; //            39. return (xn, xd, y, 1)
}

/**
 * Q0 + Q1 then [8] in projective x-only form (X : Z). Returns undefined in the exceptional cases
 * (equal x-coordinates, or a result at infinity), which the caller resolves with noble.
 */
function addAndClear(q0: MappedPoint, q1: MappedPoint): { X: bigint; Z: bigint } | undefined {
  // lambda = (y1 - y0) / (x1 - x0) with x_i = xn_i / xd_i:
  //   D = x1n*x0d - x0n*x1d,  N = (y1 - y0) * x0d * x1d,  lambda = N / D
  const W = mul(q0.xd, q1.xd);
  const D = sub(mul(q1.xn, q0.xd), mul(q0.xn, q1.xd));
  if (canon(D) === 0n) return undefined;
  const N = mul(sub(q1.y, q0.y), W);
  // x3 = lambda^2 - A - x0 - x1 = (N^2 W - D^2 (A W + x0n x1d + x1n x0d)) / (D^2 W)
  const D2 = sqr(D);
  let X = sub(mul(sqr(N), W), mul(D2, add(add(mul(J, W), mul(q0.xn, q1.xd)), mul(q1.xn, q0.xd))));
  let Z = mul(D2, W);
  // clear_cofactor: three doublings, RFC 7748 section 5 ladder formulas:
  //   X' = (X+Z)^2 (X-Z)^2,  Z' = E ((X-Z)^2 + a24 E) with E = (X+Z)^2 - (X-Z)^2 = 4XZ
  for (let i = 0; i < 3; i++) {
    const aa = sqr(add(X, Z));
    const bb = sqr(sub(X, Z));
    const e = sub(aa, bb);
    X = mul(aa, bb);
    Z = mul(e, add(bb, mul(A24, e)));
  }
  if (canon(Z) === 0n) return undefined;
  return { X, Z };
}

/** The u-coordinate of noble's edwards25519 hash, through u = (1 + y) / (1 - y) (RFC 7748 4.1). */
function nobleU(msg: Uint8Array, dst: Uint8Array): bigint {
  const { y } = ed25519_hasher.hashToCurve(msg, { DST: dst }).toAffine();
  const den = canon(sub(1n, y));
  if (den === 0n) throw new RangeError('hash_to_curve produced the identity'); // probability ~2^-252
  return canon(mul(add(1n, y), invert(den)));
}

/**
 * Hashes `count` messages, packed back to back in `data` with message i in
 * `data[offsets[i], offsets[i + 1])`, to the u-coordinates (32 bytes little-endian each, RFC 7748
 * encoding) of curve25519_XMD:SHA-512_ELL2_RO_ points under the domain separation tag `dst`.
 * @param offsets `count + 1` increasing offsets into `data`
 * @returns `32 * count` bytes
 */
export function hashToCurve25519U(
  data: Uint8Array,
  offsets: Uint32Array,
  dst: Uint8Array,
): Uint8Array {
  const count = offsets.length - 1;
  const out = new Uint8Array(32 * count);
  const prime = dstPrime(dst);
  const xs: bigint[] = new Array(count);
  const zs: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const msg = data.subarray(offsets[i]!, offsets[i + 1]!);
    const [u0, u1] = hashToField25519(msg, prime);
    const r = addAndClear(mapToCurveElligator2(u0), mapToCurveElligator2(u1));
    if (r === undefined) {
      xs[i] = nobleU(msg, dst);
      zs[i] = 1n;
    } else {
      xs[i] = r.X;
      zs[i] = r.Z;
    }
  }
  batchInvert(zs);
  for (let i = 0; i < count; i++) encodeLE(canon(mul(xs[i]!, zs[i]!)), out, 32 * i);
  return out;
}
