/**
 * Relay frames: how protocol messages travel between the parties of a job through the
 * exchange, which forwards them blind. Each frame is signed by its sender, so that both the
 * relay and the recipient authenticate it end to end (the exchange cannot forge or alter a
 * party's message), and numbered per (sender, recipient), so that a replayed, dropped or
 * reordered frame is detected.
 *
 *   u8 version (1) | u8 type (1 = data) | job id (16) | from key id (16) | to key id (16)
 *   | u64 seq (from 1) | u32 length | payload | ed25519 signature (64)
 *
 * The signature covers every byte before it, under the domain "unseen/exchange/relay/v1".
 * @module
 */
import {
  ByteReader,
  ByteWriter,
  bytesToHex,
  ensureWellFormed,
  hexToBytes,
  UnseenError,
} from '@unseen/core';
import { type Identity, SIGNATURE_BYTES, verifySignature } from './identity.js';

export const RELAY_DOMAIN = 'unseen/exchange/relay/v1';
export const RELAY_VERSION = 1;
export const RELAY_DATA = 1;
/** Bytes of a frame around its payload. */
export const RELAY_OVERHEAD = 2 + 16 * 3 + 8 + 4 + SIGNATURE_BYTES;

/** A decoded relay frame; ids are hex. */
export interface RelayFrame {
  jobId: string;
  from: string;
  to: string;
  seq: number;
  payload: Uint8Array;
  /** The signed bytes (everything before the signature). */
  signed: Uint8Array;
  signature: Uint8Array;
}

/** Builds and signs a data frame. */
export function encodeRelayFrame(
  sender: Identity,
  jobId: string,
  to: string,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const head = new ByteWriter(RELAY_OVERHEAD + payload.length)
    .u8(RELAY_VERSION)
    .u8(RELAY_DATA)
    .bytes(hexToBytes(jobId))
    .bytes(hexToBytes(sender.keyId))
    .bytes(hexToBytes(to))
    .u64(seq)
    .varBytes(payload)
    .finish();
  const sig = sender.sign(RELAY_DOMAIN, head);
  const out = new Uint8Array(head.length + sig.length);
  out.set(head);
  out.set(sig, head.length);
  return out;
}

/**
 * Decodes a frame without checking its signature.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_UNSUPPORTED_VERSION`, `ERR_MESSAGE_TOO_LARGE`
 */
export function decodeRelayFrame(bytes: Uint8Array, maxPayload: number): RelayFrame {
  ensureWellFormed(
    bytes instanceof Uint8Array && bytes.length >= RELAY_OVERHEAD,
    'relay frame: too short',
  );
  const r = new ByteReader(bytes, 'relay frame');
  const version = r.u8('version');
  if (version !== RELAY_VERSION) {
    throw new UnseenError(
      'ERR_UNSUPPORTED_VERSION',
      `relay frame: version ${version}, expected ${RELAY_VERSION}`,
    );
  }
  ensureWellFormed(r.u8('type') === RELAY_DATA, 'relay frame: unknown type');
  const jobId = bytesToHex(r.bytes(16, 'job id'));
  const from = bytesToHex(r.bytes(16, 'from'));
  const to = bytesToHex(r.bytes(16, 'to'));
  const seq = r.u64('seq');
  ensureWellFormed(seq >= 1, 'relay frame: seq starts at 1');
  const length = r.u32('payload length');
  if (length > maxPayload) {
    throw new UnseenError(
      'ERR_MESSAGE_TOO_LARGE',
      `relay frame: payload of ${length} bytes exceeds ${maxPayload}`,
    );
  }
  const payload = r.bytes(length, 'payload');
  const signedLength = r.offset;
  const signature = r.bytes(SIGNATURE_BYTES, 'signature');
  r.end();
  return { jobId, from, to, seq, payload, signed: bytes.subarray(0, signedLength), signature };
}

/** True when the frame's signature is `publicKey`'s. */
export function verifyRelayFrame(frame: RelayFrame, publicKey: Uint8Array): boolean {
  return verifySignature(publicKey, RELAY_DOMAIN, frame.signed, frame.signature);
}
