/**
 * The messages of the protocol and their byte formats. Every message is a core envelope
 * (`version u8 | type u8 | session 16 B | length u32 | body`); bodies are built with ByteWriter
 * and read with ByteReader, all integers big-endian, vectors as little-endian 32-bit words. Each
 * body opens with the index of the client it comes from (client to server) or goes to (server to
 * client), so that a message delivered to the wrong party is recognised. Lists are sorted by
 * client index, strictly (no duplicates), so every message has one encoding.
 *
 * | type | direction | round (Bonawitz et al., Figure 4) | body |
 * |---|---|---|---|
 * | 1 setup | S -> C | before Round 0 | to, parameters, graph seed |
 * | 17 advertise | C -> S | Round 0 AdvertiseKeys | from, c^PK, s^PK, [sigma] |
 * | 2 keys | S -> C | Round 0 -> 1 | to, {(v, c_v^PK, s_v^PK, [sigma_v])} |
 * | 18 shareKeys | C -> S | Round 1 ShareKeys | from, commitment to b, {(v, nonce, e_{u,v})} |
 * | 3 shares | S -> C | Round 1 -> 2 | to, {(v, nonce, e_{v,u})} |
 * | 19 maskedInput | C -> S | Round 2 MaskedInputCollection | from, y_u |
 * | 4 consistencyRequest | S -> C | Round 2 -> 3 (active) | to, U3 as a bitmap over all clients |
 * | 20 consistency | C -> S | Round 3 ConsistencyCheck | from, sigma'_u |
 * | 5 unmaskRequest | S -> C | Round 3 -> 4 | to, self-mask and mask-key bitmaps, [U3, signatures on it] |
 * | 21 unmask | C -> S | Round 4 Unmasking | from, {(v, kind, share)} |
 * | 6 abort | S -> C | any | code, reason |
 * @module
 */
import {
  ByteReader,
  ByteWriter,
  concatBytes,
  decodeMessage,
  ED25519_SIGNATURE_BYTES,
  encodeMessage,
  type Message,
  PRG_SEED_BYTES,
  sha256,
  UnseenError,
  utf8ToBytes,
  X25519_BYTES,
} from '@unseen/core';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from './aead.js';
import { checkParams, inputWords, type SecAggParams } from './params.js';

/** The protocol version in every envelope. */
export const PROTOCOL_VERSION = 1;

/** Message types. */
export const MSG = {
  setup: 1,
  keys: 2,
  shares: 3,
  consistencyRequest: 4,
  unmaskRequest: 5,
  abort: 6,
  advertise: 17,
  shareKeys: 18,
  maskedInput: 19,
  consistency: 20,
  unmask: 21,
} as const;

/** Bytes of a Shamir share of the mask key s^SK (x-coordinate and 32 bytes). */
export const KEY_SHARE_BYTES = 1 + X25519_BYTES;
/** Bytes of a Shamir share of the self-mask seed b (x-coordinate and 16 bytes). */
export const SEED_SHARE_BYTES = 1 + PRG_SEED_BYTES;
/** Bytes of one encrypted pair of shares: both shares and the AES-GCM tag. */
export const SHARE_CIPHERTEXT_BYTES = KEY_SHARE_BYTES + SEED_SHARE_BYTES + AEAD_TAG_BYTES;
/** Bytes of the commitment to b. */
export const COMMITMENT_BYTES = 32;

/** What a holder reveals in Unmasking: the share of b (client survived) or of s^SK (dropped). */
export const SHARE_KIND = { selfMaskSeed: 0, maskKey: 1 } as const;
export type ShareKind = (typeof SHARE_KIND)[keyof typeof SHARE_KIND];

export interface SetupBody {
  to: number;
  params: SecAggParams;
  graphSeed: Uint8Array;
}
export interface AdvertisedKeys {
  index: number;
  cPK: Uint8Array;
  sPK: Uint8Array;
  /** Present in the active variant. */
  signature?: Uint8Array;
}
export interface KeysBody {
  to: number;
  entries: AdvertisedKeys[];
}
export interface EncryptedShares {
  /** The other party: the receiver in shareKeys, the sender in shares. */
  peer: number;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}
export interface ShareKeysBody {
  from: number;
  commitment: Uint8Array;
  entries: EncryptedShares[];
}
export interface SharesBody {
  to: number;
  entries: EncryptedShares[];
}
export interface MaskedInputBody {
  from: number;
  data: Uint32Array;
}
export interface ConsistencyRequestBody {
  to: number;
  alive: Uint8Array;
}
export interface ConsistencyBody {
  from: number;
  signature: Uint8Array;
}
/** A consistency signature: `signer`'s signature on the survivors bitmap U3. */
export interface ConsistencySignature {
  signer: number;
  signature: Uint8Array;
}
export interface UnmaskRequestBody {
  to: number;
  /** Group members whose self-mask seed share is asked for (they survived). */
  selfMask: Uint8Array;
  /** Group members whose mask-key share is asked for (they dropped after sharing keys). */
  maskKey: Uint8Array;
  /** Active variant: U3 over all clients, as every signer signed it (empty otherwise). */
  alive: Uint8Array;
  /** Active variant: the signatures on `alive` that the receiver must check. */
  signatures: ConsistencySignature[];
}
export interface RevealedShare {
  owner: number;
  kind: ShareKind;
  share: Uint8Array;
}
export interface UnmaskBody {
  from: number;
  entries: RevealedShare[];
}
export interface AbortBody {
  code: string;
  reason: string;
}

/** Bytes of a bitmap over `size` members (a group, or all clients). */
export function bitmapBytes(size: number): number {
  return (size + 7) >> 3;
}

/** A bitmap with bit `p` set for every position `p` where `has(p)`. */
export function makeBitmap(size: number, has: (position: number) => boolean): Uint8Array {
  const out = new Uint8Array(bitmapBytes(size));
  for (let p = 0; p < size; p++) if (has(p)) out[p >> 3]! |= 1 << (p & 7);
  return out;
}

/** Bit `p` of a bitmap. */
export function bit(bitmap: Uint8Array, p: number): boolean {
  return ((bitmap[p >> 3]! >> (p & 7)) & 1) === 1;
}

/** Number of bits set. */
export function popcount(bitmap: Uint8Array): number {
  let c = 0;
  for (const b of bitmap) {
    let x = b;
    while (x !== 0) {
      x &= x - 1;
      c++;
    }
  }
  return c;
}

function readBitmap(r: ByteReader, size: number, field: string): Uint8Array {
  const bytes = r.bytes(bitmapBytes(size), field).slice();
  const spare = bytes.length * 8 - size;
  if (spare > 0 && bytes[bytes.length - 1]! >> (8 - spare) !== 0) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', `${field}: bits set beyond its ${size} members`);
  }
  return bytes;
}

function readCount(r: ByteReader, entryBytes: number, max: number, field: string): number {
  const count = r.u32(`${field} count`);
  if (count > max || count * entryBytes > r.remaining) {
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      `${field}: ${count} entries do not fit (at most ${max}, ${r.remaining} bytes left)`,
      { details: { field, count, max } },
    );
  }
  return count;
}

function ascending(previous: number, next: number, field: string): void {
  if (next <= previous) {
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      `${field}: indices must be strictly ascending (${next} after ${previous})`,
    );
  }
}

function readIndex(r: ByteReader, clients: number, field: string): number {
  const v = r.u32(field);
  if (v >= clients) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', `${field}: client ${v} out of range`, {
      details: { field, index: v, clients },
    });
  }
  return v;
}

/** Wraps a body into the envelope. */
export function envelope(type: number, session: Uint8Array, body: Uint8Array): Uint8Array {
  return encodeMessage({ version: PROTOCOL_VERSION, type, session, body });
}

/** Decodes an envelope, checking version, type and (when known) session. */
export function open(
  bytes: Uint8Array,
  type: number | readonly number[],
  session: Uint8Array | undefined,
  maxBody: number,
): Message {
  return decodeMessage(bytes, {
    version: PROTOCOL_VERSION,
    type,
    maxBody,
    ...(session === undefined ? {} : { session }),
  });
}

// ---- setup -------------------------------------------------------------------------------

export function encodeSetup(b: SetupBody): Uint8Array {
  const p = b.params;
  return new ByteWriter(48)
    .u32(b.to)
    .u32(p.clients)
    .u16(p.threshold)
    .u16(p.neighbours)
    .u8(p.bits)
    .u32(p.length)
    .u8(p.active ? 1 : 0)
    .bytes(b.graphSeed)
    .finish();
}

export function decodeSetup(body: Uint8Array): SetupBody {
  const r = new ByteReader(body, 'setup');
  const to = r.u32('to');
  const clients = r.u32('clients');
  const threshold = r.u16('threshold');
  const neighbours = r.u16('neighbours');
  const bits = r.u8('bits');
  const length = r.u32('length');
  const active = r.u8('active');
  const graphSeed = r.bytes(PRG_SEED_BYTES, 'graph seed').slice();
  r.end();
  if (active > 1) throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: active flag not 0 or 1');
  let params: SecAggParams;
  try {
    params = checkParams({
      clients,
      threshold,
      neighbours,
      bits: bits as 32 | 64,
      length,
      active: active === 1,
    });
  } catch (cause) {
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      `setup: invalid parameters: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (to >= clients) throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: index out of range');
  return { to, params, graphSeed };
}

// ---- advertise keys ----------------------------------------------------------------------

function writeKeys(w: ByteWriter, k: AdvertisedKeys, active: boolean): void {
  w.bytes(k.cPK).bytes(k.sPK);
  if (active) w.bytes(k.signature!);
}

function readKeys(r: ByteReader, index: number, active: boolean): AdvertisedKeys {
  const cPK = r.bytes(X25519_BYTES, 'c^PK').slice();
  const sPK = r.bytes(X25519_BYTES, 's^PK').slice();
  if (!active) return { index, cPK, sPK };
  return { index, cPK, sPK, signature: r.bytes(ED25519_SIGNATURE_BYTES, 'signature').slice() };
}

function keysBytes(active: boolean): number {
  return 2 * X25519_BYTES + (active ? ED25519_SIGNATURE_BYTES : 0);
}

export function encodeAdvertise(k: AdvertisedKeys, active: boolean): Uint8Array {
  const w = new ByteWriter(4 + keysBytes(active)).u32(k.index);
  writeKeys(w, k, active);
  return w.finish();
}

export function decodeAdvertise(body: Uint8Array, params: SecAggParams): AdvertisedKeys {
  const r = new ByteReader(body, 'advertise');
  const index = readIndex(r, params.clients, 'from');
  const keys = readKeys(r, index, params.active);
  r.end();
  return keys;
}

export function encodeKeys(b: KeysBody, active: boolean): Uint8Array {
  const w = new ByteWriter(8 + b.entries.length * (4 + keysBytes(active)));
  w.u32(b.to).u32(b.entries.length);
  for (const e of b.entries) {
    w.u32(e.index);
    writeKeys(w, e, active);
  }
  return w.finish();
}

export function decodeKeys(body: Uint8Array, params: SecAggParams): KeysBody {
  const r = new ByteReader(body, 'keys');
  const to = readIndex(r, params.clients, 'to');
  const count = readCount(r, 4 + keysBytes(params.active), params.neighbours + 1, 'keys');
  const entries: AdvertisedKeys[] = [];
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const index = readIndex(r, params.clients, 'keys index');
    ascending(previous, index, 'keys');
    previous = index;
    entries.push(readKeys(r, index, params.active));
  }
  r.end();
  return { to, entries };
}

// ---- share keys --------------------------------------------------------------------------

const ENCRYPTED_BYTES = 4 + AEAD_NONCE_BYTES + SHARE_CIPHERTEXT_BYTES;

function writeEncrypted(w: ByteWriter, entries: readonly EncryptedShares[]): void {
  w.u32(entries.length);
  for (const e of entries) w.u32(e.peer).bytes(e.nonce).bytes(e.ciphertext);
}

function readEncrypted(r: ByteReader, params: SecAggParams, field: string): EncryptedShares[] {
  const count = readCount(r, ENCRYPTED_BYTES, params.neighbours, field);
  const entries: EncryptedShares[] = [];
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const peer = readIndex(r, params.clients, `${field} index`);
    ascending(previous, peer, field);
    previous = peer;
    const nonce = r.bytes(AEAD_NONCE_BYTES, 'nonce').slice();
    const ciphertext = r.bytes(SHARE_CIPHERTEXT_BYTES, 'ciphertext').slice();
    entries.push({ peer, nonce, ciphertext });
  }
  return entries;
}

export function encodeShareKeys(b: ShareKeysBody): Uint8Array {
  const w = new ByteWriter(40 + b.entries.length * ENCRYPTED_BYTES);
  w.u32(b.from).bytes(b.commitment);
  writeEncrypted(w, b.entries);
  return w.finish();
}

export function decodeShareKeys(body: Uint8Array, params: SecAggParams): ShareKeysBody {
  const r = new ByteReader(body, 'shareKeys');
  const from = readIndex(r, params.clients, 'from');
  const commitment = r.bytes(COMMITMENT_BYTES, 'commitment').slice();
  const entries = readEncrypted(r, params, 'shareKeys');
  r.end();
  return { from, commitment, entries };
}

export function encodeShares(b: SharesBody): Uint8Array {
  const w = new ByteWriter(8 + b.entries.length * ENCRYPTED_BYTES).u32(b.to);
  writeEncrypted(w, b.entries);
  return w.finish();
}

export function decodeShares(body: Uint8Array, params: SecAggParams): SharesBody {
  const r = new ByteReader(body, 'shares');
  const to = readIndex(r, params.clients, 'to');
  const entries = readEncrypted(r, params, 'shares');
  r.end();
  return { to, entries };
}

// ---- masked input ------------------------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

export function encodeMaskedInput(b: MaskedInputBody): Uint8Array {
  const out = new Uint8Array(4 + 4 * b.data.length);
  new DataView(out.buffer).setUint32(0, b.from);
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength), 4);
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < b.data.length; i++) view.setUint32(4 + 4 * i, b.data[i]!, true);
  }
  return out;
}

export function decodeMaskedInput(body: Uint8Array, params: SecAggParams): MaskedInputBody {
  const r = new ByteReader(body, 'maskedInput');
  const from = readIndex(r, params.clients, 'from');
  const words = inputWords(params);
  const bytes = r.bytes(4 * words, 'masked input');
  r.end();
  const data = new Uint32Array(words);
  if (LITTLE_ENDIAN) new Uint8Array(data.buffer).set(bytes);
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < words; i++) data[i] = view.getUint32(4 * i, true);
  }
  return { from, data };
}

// ---- consistency check -------------------------------------------------------------------

export function encodeConsistencyRequest(b: ConsistencyRequestBody): Uint8Array {
  return new ByteWriter(8 + b.alive.length).u32(b.to).bytes(b.alive).finish();
}

export function decodeConsistencyRequest(
  body: Uint8Array,
  params: SecAggParams,
): ConsistencyRequestBody {
  const r = new ByteReader(body, 'consistencyRequest');
  const to = readIndex(r, params.clients, 'to');
  const alive = readBitmap(r, params.clients, 'alive');
  r.end();
  return { to, alive };
}

export function encodeConsistency(b: ConsistencyBody): Uint8Array {
  return new ByteWriter(4 + ED25519_SIGNATURE_BYTES).u32(b.from).bytes(b.signature).finish();
}

export function decodeConsistency(body: Uint8Array, params: SecAggParams): ConsistencyBody {
  const r = new ByteReader(body, 'consistency');
  const from = readIndex(r, params.clients, 'from');
  const signature = r.bytes(ED25519_SIGNATURE_BYTES, 'signature').slice();
  r.end();
  return { from, signature };
}

// ---- unmasking ---------------------------------------------------------------------------

export function encodeUnmaskRequest(b: UnmaskRequestBody, active: boolean): Uint8Array {
  const w = new ByteWriter(16 + 2 * b.selfMask.length).u32(b.to).bytes(b.selfMask).bytes(b.maskKey);
  if (active) {
    w.bytes(b.alive).u32(b.signatures.length);
    for (const v of b.signatures) w.u32(v.signer).bytes(v.signature);
  }
  return w.finish();
}

export function decodeUnmaskRequest(body: Uint8Array, params: SecAggParams): UnmaskRequestBody {
  const r = new ByteReader(body, 'unmaskRequest');
  const group = params.neighbours + 1;
  const to = readIndex(r, params.clients, 'to');
  const selfMask = readBitmap(r, group, 'self-mask bitmap');
  const maskKey = readBitmap(r, group, 'mask-key bitmap');
  const signatures: ConsistencySignature[] = [];
  let alive: Uint8Array = new Uint8Array(0);
  if (params.active) {
    alive = readBitmap(r, params.clients, 'alive');
    const entryBytes = 4 + ED25519_SIGNATURE_BYTES;
    const count = readCount(r, entryBytes, Math.min(params.clients, group * group), 'signatures');
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const signer = readIndex(r, params.clients, 'signer');
      ascending(previous, signer, 'signatures');
      previous = signer;
      const signature = r.bytes(ED25519_SIGNATURE_BYTES, 'signature').slice();
      signatures.push({ signer, signature });
    }
  }
  r.end();
  return { to, selfMask, maskKey, alive, signatures };
}

export function encodeUnmask(b: UnmaskBody): Uint8Array {
  const w = new ByteWriter(8 + b.entries.length * (5 + KEY_SHARE_BYTES)).u32(b.from);
  w.u32(b.entries.length);
  for (const e of b.entries) w.u32(e.owner).u8(e.kind).bytes(e.share);
  return w.finish();
}

export function decodeUnmask(body: Uint8Array, params: SecAggParams): UnmaskBody {
  const r = new ByteReader(body, 'unmask');
  const from = readIndex(r, params.clients, 'from');
  const count = readCount(r, 5 + SEED_SHARE_BYTES, params.neighbours + 1, 'unmask');
  const entries: RevealedShare[] = [];
  let previous = -1;
  for (let i = 0; i < count; i++) {
    const owner = readIndex(r, params.clients, 'owner');
    ascending(previous, owner, 'unmask');
    previous = owner;
    const kind = r.u8('kind');
    if (kind !== SHARE_KIND.selfMaskSeed && kind !== SHARE_KIND.maskKey) {
      throw new UnseenError('ERR_MALFORMED_MESSAGE', `unmask: unknown share kind ${kind}`);
    }
    const share = r
      .bytes(kind === SHARE_KIND.maskKey ? KEY_SHARE_BYTES : SEED_SHARE_BYTES, 'share')
      .slice();
    entries.push({ owner, kind, share });
  }
  r.end();
  return { from, entries };
}

// ---- abort -------------------------------------------------------------------------------

const MAX_REASON = 1024;

export function encodeAbort(b: AbortBody): Uint8Array {
  return new ByteWriter(64)
    .string(b.code.slice(0, 64))
    .string(b.reason.slice(0, MAX_REASON))
    .finish();
}

export function decodeAbort(body: Uint8Array): AbortBody {
  const r = new ByteReader(body, 'abort');
  const code = r.string('code', 4 * 64);
  const reason = r.string('reason', 4 * MAX_REASON);
  r.end();
  return { code, reason };
}

// ---- setup digest ------------------------------------------------------------------------

/**
 * A digest of the session, the parameters and the graph seed, bound into every signature of the
 * active variant: a valid peer signature proves the peer was shown the same setup.
 */
export function setupDigest(
  session: Uint8Array,
  params: SecAggParams,
  graphSeed: Uint8Array,
): Uint8Array {
  const body = encodeSetup({ to: 0, params, graphSeed });
  return sha256(concatBytes(utf8ToBytes('unseen/secagg/v1/setup'), session, body));
}
