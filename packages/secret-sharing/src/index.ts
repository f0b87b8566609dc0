/**
 * @unseen/secret-sharing: Shamir over GF(256) for byte secrets, Shamir over a prime field and
 * additive sharing for vectors, Feldman verifiable secret sharing on ristretto255, Beaver-triple
 * multiplication with fixed-point truncation, and an n-party MpcSession over core Channels.
 * @module
 */
export * from './additive.js';
export * from './beaver.js';
export * from './correlations.js';
export * from './dealer.js';
export * from './feldman.js';
export * from './field-shamir.js';
export { GF256_POLY, gfAdd, gfDiv, gfInv, gfMul, xtimeWords } from './gf256.js';
export * from './mesh.js';
export * from './mpc-messages.js';
export * from './prime-field.js';
export * from './ring-arith.js';
export {
  type ScalarShare,
  type ScalarSplitOptions,
  scalarShamir,
} from './scalar-shamir.js';
export * from './session.js';
export {
  SHAMIR_INTEGRITY_OVERHEAD,
  type ShamirCombineOptions,
  type ShamirSplitOptions,
  shamir,
} from './shamir.js';
export * from './truncation.js';
