/**
 * @unseen/core: the shared foundation of unseen. Typed errors and validators, bytes, randomness,
 * the seeded PRG, hashing and HKDF, X25519, Ed25519, ring and fixed-point arithmetic, the message envelope,
 * framing, the Channel transport abstraction and the platform's node:crypto.
 * @module
 */
export * from './base64url.js';
export * from './bytes.js';
export * from './channel.js';
export * from './ed25519.js';
export * from './errors.js';
export * from './fixed-point.js';
export * from './framing.js';
export * from './hash.js';
export * from './message.js';
export * from './platform.js';
export * from './prg.js';
export * from './random.js';
export * from './ring.js';
export * from './x25519.js';
