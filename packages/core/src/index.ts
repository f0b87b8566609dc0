/**
 * @unseen/core: the shared foundation of unseen. Typed errors and validators, bytes, randomness,
 * the seeded PRG, hashing and HKDF, ring and fixed-point arithmetic, the message envelope,
 * framing and the Channel transport abstraction.
 * @module
 */
export * from './bytes.js';
export * from './channel.js';
export * from './errors.js';
export * from './fixed-point.js';
export * from './framing.js';
export * from './hash.js';
export * from './message.js';
export * from './prg.js';
export * from './random.js';
export * from './ring.js';
