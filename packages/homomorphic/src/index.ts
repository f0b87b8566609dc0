/**
 * @unseen/homomorphic: encrypted vector aggregation. CKKS and BFV through node-seal (an untrusted
 * aggregator sums ciphertexts; only the key holder decrypts the sum), Paillier on BigInt with
 * packing, and threshold Paillier (t of n key holders decrypt together).
 * @module
 */
export * from './aggregator.js';
export * from './contribution.js';
export * from './key-holder.js';
export * from './paillier/bigint.js';
export * from './paillier/packing.js';
export * from './paillier/paillier.js';
export * from './paillier/parallel.js';
export * from './paillier/primes.js';
export * from './paillier/threshold.js';
export { type SealScheme, sealVersion } from './seal/adapter.js';
export {
  type CkksNoise,
  ckksNoise,
  DEFAULT_MAX_DECRYPTIONS,
  DEFAULT_STATISTICAL_SECURITY,
  floodingNoise,
  freshCoefficientBound,
  roundToGrid,
  SAMPLER_MAX_TAIL,
} from './seal/noise.js';
export {
  MAX_CONTRIBUTIONS,
  MAX_LENGTH,
  planVector,
  TC128_MAX_BITS,
  type VectorOptions,
  type VectorPlan,
  type VectorScheme,
} from './seal/params.js';
export { clearEncryptionSessions } from './seal/sessions.js';
export * from './signed.js';
