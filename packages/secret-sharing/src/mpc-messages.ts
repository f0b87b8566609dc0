/**
 * The messages of an MPC session, each in core's envelope (`version | type | session | length |
 * body`). Bodies, all integers big-endian, word vectors little-endian:
 *
 * ```
 * input     step u32 | from u16 | bits u8 | length u32 | seed (16 bytes)
 * open      step u32 | from u16 | bits u8 | words u32 | words * u32
 * abort     step u32 | from u16 | code string | message string        (from 0xffff: the dealer)
 * request   request u32 | from u16 | parties u16 | kind u8 | bits u8 | length u32 | shift u8
 * material  request u32 | kind u8 | bits u8 | length u32 | shift u8 | seed (16) | words u32 | words
 * ```
 *
 * Every decoder checks the envelope (version, type, session), then every field against what the
 * receiver expects, so that a message of another step, sender, ring, length or kind is refused
 * with its own code before any share is touched; an `abort` from a peer surfaces as
 * `ERR_PROTOCOL_ABORTED` carrying the peer's code.
 * @module
 */
import {
  ByteReader,
  ByteWriter,
  decodeMessage,
  encodeMessage,
  isErrorCode,
  PRG_SEED_BYTES,
  type RingBits,
  UnseenError,
  wordsPerElement,
} from '@unseen/core';
import type { CorrelationKind, CorrelationSpec } from './correlations.js';
import { readWords, writeWords } from './wire.js';

/** Protocol version of these messages. */
export const MPC_VERSION = 1;

/** Message types. */
export const MPC_MESSAGE = {
  input: 1,
  open: 2,
  abort: 3,
  request: 16,
  material: 17,
} as const;

/** The `from` of messages the dealer sends. */
export const DEALER_ID = 0xffff;

const KIND_CODE: Record<CorrelationKind, number> = { triple: 1, truncation: 2 };
const KIND_OF: Record<number, CorrelationKind> = { 1: 'triple', 2: 'truncation' };

/** Most bytes of an abort's code or message, and of a whole abort body. */
const MAX_ABORT_TEXT = 1024;
const ABORT_MAX_BODY = 6 + 2 * (4 + MAX_ABORT_TEXT);

function envelope(session: Uint8Array, type: number, body: ByteWriter): Uint8Array {
  return encodeMessage({ version: MPC_VERSION, type, session, body: body.finish() });
}

function mismatch(what: string, got: unknown, expected: unknown): UnseenError {
  return new UnseenError(
    'ERR_PARAMETER_MISMATCH',
    `${what}: got ${String(got)}, expected ${String(expected)}`,
    {
      details: { got, expected },
    },
  );
}

function unexpected(what: string, got: unknown, expected: unknown): UnseenError {
  return new UnseenError(
    'ERR_UNEXPECTED_MESSAGE',
    `${what}: got ${String(got)}, expected ${String(expected)}`,
    {
      details: { got, expected },
    },
  );
}

/**
 * Opens the envelope: checks version and session, turns an `abort` into
 * `ERR_PROTOCOL_ABORTED`, and checks the type.
 */
export function openEnvelope(
  bytes: Uint8Array,
  session: Uint8Array,
  type: number,
  maxBody: number,
): { body: ByteReader; step: number } {
  const m = decodeMessage(bytes, {
    version: MPC_VERSION,
    session,
    type: [type, MPC_MESSAGE.abort],
    maxBody: Math.max(maxBody, ABORT_MAX_BODY),
  });
  if (m.type !== MPC_MESSAGE.abort && m.body.length > maxBody) {
    throw new UnseenError(
      'ERR_MESSAGE_TOO_LARGE',
      `mpc message: body of ${m.body.length} bytes exceeds ${maxBody}`,
      {
        details: { length: m.body.length, max: maxBody },
      },
    );
  }
  const r = new ByteReader(m.body, 'mpc message');
  const step = r.u32('step');
  if (m.type === MPC_MESSAGE.abort) {
    const from = r.u16('from');
    const code = r.string('code', MAX_ABORT_TEXT);
    const message = r.string('message', MAX_ABORT_TEXT);
    r.end();
    throw new UnseenError(
      'ERR_PROTOCOL_ABORTED',
      `${from === DEALER_ID ? 'the dealer' : `party ${from}`} aborted the session: ${message}`,
      { details: { from, step, code: isErrorCode(code) ? code : 'unknown' } },
    );
  }
  return { body: r, step };
}

function checkStep(step: number, expected: number): void {
  if (step !== expected) throw unexpected('mpc message step', step, expected);
}

function checkFrom(r: ByteReader, expected: number): void {
  const from = r.u16('from');
  if (from !== expected) throw unexpected('mpc message sender', from, expected);
}

/** An `input` message: the owner's seed for the receiver's share. */
export function encodeInput(
  session: Uint8Array,
  step: number,
  from: number,
  bits: RingBits,
  length: number,
  seed: Uint8Array,
): Uint8Array {
  return envelope(
    session,
    MPC_MESSAGE.input,
    new ByteWriter(32).u32(step).u16(from).u8(bits).u32(length).bytes(seed),
  );
}

export function decodeInput(
  bytes: Uint8Array,
  expect: { session: Uint8Array; step: number; from: number; bits: RingBits; length: number },
): Uint8Array {
  const { body: r, step } = openEnvelope(bytes, expect.session, MPC_MESSAGE.input, 64);
  checkStep(step, expect.step);
  checkFrom(r, expect.from);
  const bits = r.u8('bits');
  const length = r.u32('length');
  const seed = r.bytes(PRG_SEED_BYTES, 'seed').slice();
  r.end();
  if (bits !== expect.bits) throw mismatch('input ring bits', bits, expect.bits);
  if (length !== expect.length) throw mismatch('input length', length, expect.length);
  return seed;
}

/** An `open` message: the sender's share of a vector being opened. */
export function encodeOpen(
  session: Uint8Array,
  step: number,
  from: number,
  bits: RingBits,
  words: Uint32Array,
): Uint8Array {
  const w = new ByteWriter(15 + words.length * 4).u32(step).u16(from).u8(bits).u32(words.length);
  return envelope(session, MPC_MESSAGE.open, writeWords(w, words));
}

export function decodeOpen(
  bytes: Uint8Array,
  expect: { session: Uint8Array; step: number; from: number; bits: RingBits; words: number },
): Uint32Array {
  const { body: r, step } = openEnvelope(
    bytes,
    expect.session,
    MPC_MESSAGE.open,
    11 + expect.words * 4,
  );
  checkStep(step, expect.step);
  checkFrom(r, expect.from);
  const bits = r.u8('bits');
  const count = r.u32('words');
  if (bits !== expect.bits) throw mismatch('opened ring bits', bits, expect.bits);
  if (count !== expect.words) throw mismatch('opened words', count, expect.words);
  const words = readWords(r, count, 'words');
  r.end();
  return words;
}

/** An `abort` message: the sender gives up, with a stable code and a message (no secrets). */
export function encodeAbort(
  session: Uint8Array,
  step: number,
  from: number,
  code: string,
  message: string,
): Uint8Array {
  const cut = (s: string) => (s.length > 256 ? `${s.slice(0, 253)}...` : s);
  return envelope(
    session,
    MPC_MESSAGE.abort,
    new ByteWriter(64).u32(step).u16(from).string(cut(code)).string(cut(message)),
  );
}

/** A `request` for correlated randomness. */
export function encodeRequest(
  session: Uint8Array,
  request: number,
  from: number,
  parties: number,
  spec: CorrelationSpec,
): Uint8Array {
  return envelope(
    session,
    MPC_MESSAGE.request,
    new ByteWriter(32)
      .u32(request)
      .u16(from)
      .u16(parties)
      .u8(KIND_CODE[spec.kind])
      .u8(spec.bits)
      .u32(spec.length)
      .u8(spec.shift),
  );
}

/** A decoded request, validated for structure (kind, ring, shift range, size limit). */
export interface DealerRequest {
  request: number;
  from: number;
  parties: number;
  spec: CorrelationSpec;
}

export function decodeRequest(
  bytes: Uint8Array,
  session: Uint8Array,
  maxElements: number,
): DealerRequest {
  const { body: r, step: request } = openEnvelope(bytes, session, MPC_MESSAGE.request, 64);
  const from = r.u16('from');
  const parties = r.u16('parties');
  const kindCode = r.u8('kind');
  const bits = r.u8('bits');
  const length = r.u32('length');
  const shift = r.u8('shift');
  r.end();
  const kind = KIND_OF[kindCode];
  if (kind === undefined)
    throw new UnseenError('ERR_MALFORMED_MESSAGE', `request: unknown kind ${kindCode}`);
  if (bits !== 32 && bits !== 64)
    throw new UnseenError('ERR_MALFORMED_MESSAGE', `request: ring of ${bits} bits`);
  if (length > maxElements) {
    throw new UnseenError(
      'ERR_MESSAGE_TOO_LARGE',
      `request: ${length} elements exceed the limit ${maxElements}`,
    );
  }
  const shiftOk = kind === 'triple' ? shift === 0 : shift >= 1 && shift <= bits - 2;
  if (!shiftOk)
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      `request: shift ${shift} is invalid for ${kind}`,
    );
  if (parties < 2 || from >= parties) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', `request: party ${from} of ${parties}`);
  }
  return { request, from, parties, spec: { kind, bits, length, shift } };
}

/** A `material` message: the receiver's seed and, for the last party, the correction words. */
export function encodeMaterial(
  session: Uint8Array,
  request: number,
  spec: CorrelationSpec,
  seed: Uint8Array,
  correction: Uint32Array,
): Uint8Array {
  const w = new ByteWriter(40 + correction.length * 4)
    .u32(request)
    .u8(KIND_CODE[spec.kind])
    .u8(spec.bits)
    .u32(spec.length)
    .u8(spec.shift)
    .bytes(seed)
    .u32(correction.length);
  return envelope(session, MPC_MESSAGE.material, writeWords(w, correction));
}

export function decodeMaterial(
  bytes: Uint8Array,
  expect: { session: Uint8Array; request: number; spec: CorrelationSpec; correctionWords: number },
): { seed: Uint8Array; correction: Uint32Array } {
  const { spec } = expect;
  const maxBody = 31 + expect.correctionWords * 4;
  const { body: r, step } = openEnvelope(bytes, expect.session, MPC_MESSAGE.material, maxBody);
  checkStep(step, expect.request);
  const kind = KIND_OF[r.u8('kind')];
  const bits = r.u8('bits');
  const length = r.u32('length');
  const shift = r.u8('shift');
  if (kind !== spec.kind) throw mismatch('material kind', kind, spec.kind);
  if (bits !== spec.bits) throw mismatch('material ring bits', bits, spec.bits);
  if (length !== spec.length) throw mismatch('material length', length, spec.length);
  if (shift !== spec.shift) throw mismatch('material shift', shift, spec.shift);
  const seed = r.bytes(PRG_SEED_BYTES, 'seed').slice();
  const count = r.u32('correction words');
  if (count !== expect.correctionWords)
    throw mismatch('material correction words', count, expect.correctionWords);
  const correction = readWords(r, count, 'correction');
  r.end();
  return { seed, correction };
}

/** Words of a vector of `length` elements. */
export function vectorWords(bits: RingBits, length: number): number {
  return length * wordsPerElement(bits);
}
