/**
 * Every key, seed, commitment and signed statement of the protocol, derived in one place with
 * HKDF-SHA256 (RFC 5869) and SHA-256 from @unseen/core, each under its own label and salted with
 * the session id, so that nothing is reused across purposes, directions or sessions.
 *
 * | value | paper | derivation |
 * |---|---|---|
 * | pairwise mask seed of u, v | s_{u,v} = KA.agree(s_u^SK, s_v^PK), PRG(s_{u,v}) | HKDF(X25519, session, "pairwise-mask" min(u,v) max(u,v)) |
 * | share encryption key u -> v | KA.agree(c_u^SK, c_v^PK) | HKDF(X25519, session, "share-key" u v), one key per direction |
 * | self-mask seed of u | PRG(b_u) | HKDF(b_u, session, "self-mask" u) |
 * | commitment to b_u | (ours) | SHA-256("self-mask-commitment" session u b_u) |
 * @module
 */
import { ByteWriter, concatBytes, hkdf, PRG_SEED_BYTES, sha256, utf8ToBytes } from '@unseen/core';
import { AEAD_KEY_BYTES } from './aead.js';

const PREFIX = 'unseen/secagg/v1/';

function info(label: string, ...indices: number[]): Uint8Array {
  const w = new ByteWriter(64).bytes(utf8ToBytes(PREFIX + label));
  for (const i of indices) w.u32(i);
  return w.finish();
}

/** The 16-byte PRG seed of the pairwise mask between u and v (symmetric in u, v). */
export function pairwiseMaskSeed(
  shared: Uint8Array,
  session: Uint8Array,
  u: number,
  v: number,
): Uint8Array {
  return hkdf(
    shared,
    session,
    info('pairwise-mask', Math.min(u, v), Math.max(u, v)),
    PRG_SEED_BYTES,
  );
}

/** The AES-256-GCM key for shares that `from` encrypts to `to` (one key per direction). */
export function shareKey(
  shared: Uint8Array,
  session: Uint8Array,
  from: number,
  to: number,
): Uint8Array {
  return hkdf(shared, session, info('share-key', from, to), AEAD_KEY_BYTES);
}

/** The round whose messages carry encrypted shares: Round 1, ShareKeys (Figure 4). */
const SHARE_KEYS_ROUND = 1;

/**
 * The associated data of the shares `from` encrypts to `to`: binds the round, the sender, the
 * receiver and the session.
 */
export function shareAad(session: Uint8Array, from: number, to: number): Uint8Array {
  return concatBytes(info('shares', SHARE_KEYS_ROUND, from, to), session);
}

/** The 16-byte PRG seed of u's self mask p_u = PRG(b_u). */
export function selfMaskSeed(b: Uint8Array, session: Uint8Array, u: number): Uint8Array {
  return hkdf(b, session, info('self-mask', u), PRG_SEED_BYTES);
}

/**
 * A commitment to b_u that u sends the server with its encrypted shares, so that the server
 * detects a wrong reconstruction (a corrupted share) instead of returning a wrong sum. Hiding:
 * b_u has 128 bits of entropy.
 */
export function selfMaskCommitment(b: Uint8Array, session: Uint8Array, u: number): Uint8Array {
  return sha256(concatBytes(info('self-mask-commitment', u), session, b));
}

/**
 * What a client signs in AdvertiseKeys (Bonawitz et al., Figure 4, Round 0:
 * sigma_u = SIG.sign(d_u^SK, c_u^PK || s_u^PK)), bound here also to the session, the client's
 * index and the digest of the setup, so that a signature proves the signer saw the same setup.
 */
export function advertiseStatement(
  session: Uint8Array,
  setupDigest: Uint8Array,
  u: number,
  cPK: Uint8Array,
  sPK: Uint8Array,
): Uint8Array {
  return concatBytes(info('advertise', u), session, setupDigest, cPK, sPK);
}

/**
 * What a client signs in ConsistencyCheck (Figure 4, Round 3: sigma'_u = SIG.sign(d_u^SK, U3)):
 * its view of the survivors, as a bitmap over its group.
 */
export function consistencyStatement(
  session: Uint8Array,
  setupDigest: Uint8Array,
  u: number,
  alive: Uint8Array,
): Uint8Array {
  return concatBytes(info('consistency', u), session, setupDigest, alive);
}
