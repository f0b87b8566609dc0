/**
 * Wire formats of the PSI protocol, each inside core's envelope (`version u8 | type u8 |
 * session 16 B | length u32 | body`), with decoders that check every field before anything is
 * trusted. Integers are big-endian; group elements are 32 bytes.
 *
 * | type | message | session field | body |
 * |---|---|---|---|
 * | 1 | request chunk | client session | suite, mode, total, chunk index, chunk count, first, count, elements |
 * | 2 | response chunk | client session | suite, mode, setup id, total, chunk index, chunk count, first, count, elements |
 * | 3 | sum query | client session | setup id, Paillier ciphertext |
 * | 4 | sum answer | client session | masked sum |
 * | 16 | setup | setup id | see `setup.ts` |
 * | 255 | error | any | code, message |
 * @module
 */
import {
  ByteReader,
  ByteWriter,
  decodeMessage,
  encodeMessage,
  isErrorCode,
  type Message,
  SESSION_ID_BYTES,
  UnseenError,
} from '@unseen/core';
import { ELEMENT_BYTES, SUITE_IDS, SUITES, type SuiteName } from './group.js';

/** Protocol version spoken by this implementation. */
export const PSI_VERSION = 1;

/** What the client learns. */
export const MODES = ['intersection', 'cardinality', 'labels', 'sum'] as const;
/** A PSI mode. */
export type PsiMode = (typeof MODES)[number];
/** Wire identifier of each mode. */
export const MODE_IDS: Record<PsiMode, number> = {
  intersection: 1,
  cardinality: 2,
  labels: 3,
  sum: 4,
};

/** Message types. */
export const MSG = {
  request: 1,
  response: 2,
  sumQuery: 3,
  sumAnswer: 4,
  setup: 16,
  error: 255,
} as const;

/** Most elements in one request or response chunk. */
export const MAX_CHUNK_ITEMS = 2 ** 20;
/** Most elements in one whole request. */
export const MAX_REQUEST_ITEMS = 2 ** 28;

/** Decodes a suite byte. @throws UnseenError `ERR_PARAMETER_MISMATCH` */
export function suiteFromId(id: number, what: string): SuiteName {
  const s = SUITES.find((name) => SUITE_IDS[name] === id);
  if (s === undefined)
    throw new UnseenError('ERR_PARAMETER_MISMATCH', `${what}: unknown group suite ${id}`);
  return s;
}

/** Decodes a mode byte. @throws UnseenError `ERR_PARAMETER_MISMATCH` */
export function modeFromId(id: number, what: string): PsiMode {
  const m = MODES.find((name) => MODE_IDS[name] === id);
  if (m === undefined)
    throw new UnseenError('ERR_PARAMETER_MISMATCH', `${what}: unknown mode ${id}`);
  return m;
}

/** One chunk of a request or response. */
export interface Chunk {
  session: Uint8Array;
  suite: SuiteName;
  mode: PsiMode;
  /** Elements in the whole request. */
  total: number;
  index: number;
  count: number;
  /** Index of this chunk's first element in the whole request. */
  first: number;
  /** `ELEMENT_BYTES * elements` bytes. */
  elements: Uint8Array;
  /** Responses only: the setup the server answers for. */
  setupId?: Uint8Array;
}

/** Encodes a request (type 1) or response (type 2) chunk. */
export function encodeChunk(type: 1 | 2, c: Chunk): Uint8Array {
  const w = new ByteWriter(64 + c.elements.length).u8(SUITE_IDS[c.suite]).u8(MODE_IDS[c.mode]);
  if (type === MSG.response) w.bytes(c.setupId!);
  w.u32(c.total)
    .u32(c.index)
    .u32(c.count)
    .u32(c.first)
    .u32(c.elements.length / ELEMENT_BYTES);
  w.bytes(c.elements);
  return encodeMessage({ version: PSI_VERSION, type, session: c.session, body: w.finish() });
}

/**
 * Decodes and checks a request or response chunk: envelope, suite and mode bytes, chunk
 * arithmetic, and that the element bytes match the count exactly.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_UNSUPPORTED_VERSION`, `ERR_UNEXPECTED_MESSAGE`,
 * `ERR_SESSION_MISMATCH`, `ERR_PARAMETER_MISMATCH`, `ERR_MESSAGE_TOO_LARGE`
 */
export function decodeChunk(type: 1 | 2, bytes: Uint8Array, session?: Uint8Array): Chunk {
  const what = type === MSG.request ? 'request' : 'response';
  const msg = decodeEnvelope(bytes, type, session);
  const r = new ByteReader(msg.body, what);
  const suite = suiteFromId(r.u8('suite'), what);
  const mode = modeFromId(r.u8('mode'), what);
  const setupId = type === MSG.response ? r.bytes(SESSION_ID_BYTES, 'setup id').slice() : undefined;
  const total = r.u32('total');
  const index = r.u32('chunk index');
  const count = r.u32('chunk count');
  const first = r.u32('first element');
  const n = r.u32('elements');
  const fail = (reason: string): never => {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', `${what}: ${reason}`, {
      details: { total, index, count, first, elements: n },
    });
  };
  if (total > MAX_REQUEST_ITEMS) fail(`more than ${MAX_REQUEST_ITEMS} elements`);
  if (count === 0 || index >= count) fail('chunk index out of range');
  if (n > MAX_CHUNK_ITEMS) fail(`more than ${MAX_CHUNK_ITEMS} elements in a chunk`);
  if (first + n > total) fail('chunk extends past the total');
  if (n * ELEMENT_BYTES !== r.remaining)
    fail(`expected ${n * ELEMENT_BYTES} element bytes, got ${r.remaining}`);
  const elements = r.bytes(n * ELEMENT_BYTES, 'elements').slice();
  r.end();
  const chunk: Chunk = {
    session: msg.session.slice(),
    suite,
    mode,
    total,
    index,
    count,
    first,
    elements,
  };
  if (setupId !== undefined) chunk.setupId = setupId;
  return chunk;
}

/**
 * The envelope checks every PSI message gets; an error message from the peer is raised. An
 * error report may carry the all-zero session: a server that fails before the client's request
 * arrived (a timeout, its setup) cannot know the session yet.
 */
export function decodeEnvelope(bytes: Uint8Array, type: number, session?: Uint8Array): Message {
  const msg = decodeMessage(bytes, { version: PSI_VERSION, type: [type, MSG.error] });
  if (msg.type === MSG.error && (session === undefined || msg.session.every((b) => b === 0))) {
    throw decodeError(msg.body);
  }
  if (session === undefined) return msg;
  // The session check (ERR_SESSION_MISMATCH), then a same-session error report.
  decodeMessage(bytes, { version: PSI_VERSION, type: [type, MSG.error], session });
  if (msg.type === MSG.error) throw decodeError(msg.body);
  return msg;
}

/** An error report for the peer: its code and message (never a secret). */
export function encodeError(session: Uint8Array, error: unknown): Uint8Array {
  const e =
    error instanceof UnseenError
      ? error
      : new UnseenError('ERR_PROTOCOL_ABORTED', 'the peer failed to process the message');
  const body = new ByteWriter().string(e.code).string(e.message.slice(0, 1000)).finish();
  return encodeMessage({ version: PSI_VERSION, type: MSG.error, session, body });
}

function decodeError(body: Uint8Array): UnseenError {
  try {
    const r = new ByteReader(body, 'error');
    const code = r.string('code', 64);
    const message = r.string('message', 4000);
    r.end();
    return new UnseenError(
      'ERR_PROTOCOL_ABORTED',
      `peer aborted: ${isErrorCode(code) ? code : 'unknown code'}: ${message}`,
      { details: { peerCode: isErrorCode(code) ? code : 'unknown' } },
    );
  } catch {
    return new UnseenError('ERR_PROTOCOL_ABORTED', 'peer aborted with a malformed error report');
  }
}

/** Sum query (type 3): the client's masked, re-randomised encrypted sum. */
export function encodeSumQuery(
  session: Uint8Array,
  setupId: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const body = new ByteWriter(ciphertext.length + 24).bytes(setupId).varBytes(ciphertext).finish();
  return encodeMessage({ version: PSI_VERSION, type: MSG.sumQuery, session, body });
}

/** @throws UnseenError as {@link decodeChunk} */
export function decodeSumQuery(bytes: Uint8Array): {
  session: Uint8Array;
  setupId: Uint8Array;
  ciphertext: Uint8Array;
} {
  const msg = decodeEnvelope(bytes, MSG.sumQuery);
  const r = new ByteReader(msg.body, 'sum query');
  const setupId = r.bytes(SESSION_ID_BYTES, 'setup id').slice();
  const ciphertext = r.varBytes('ciphertext', 1 << 16).slice();
  r.end();
  return { session: msg.session.slice(), setupId, ciphertext };
}

/** Sum answer (type 4): the decrypted masked sum, big-endian. */
export function encodeSumAnswer(session: Uint8Array, value: Uint8Array): Uint8Array {
  const body = new ByteWriter(value.length + 8).varBytes(value).finish();
  return encodeMessage({ version: PSI_VERSION, type: MSG.sumAnswer, session, body });
}

/** @throws UnseenError as {@link decodeChunk} */
export function decodeSumAnswer(bytes: Uint8Array, session: Uint8Array): Uint8Array {
  const msg = decodeEnvelope(bytes, MSG.sumAnswer, session);
  const r = new ByteReader(msg.body, 'sum answer');
  const value = r.varBytes('value', 1 << 16).slice();
  r.end();
  return value;
}
