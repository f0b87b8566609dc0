/**
 * The envelope of every protocol message in unseen:
 *
 * ```
 * version u8 | type u8 | session id (16 bytes) | body length u32 (big-endian) | body
 * ```
 *
 * {@link decodeMessage} checks the structure (length exact: truncated and extended inputs are
 * both rejected), the size limit, and, when the caller says what it expects, the version, the
 * type and the session, each with its own error code. The body is the protocol's to validate.
 * @module
 */
import { ByteReader, ByteWriter, bytesToHex } from './bytes.js';
import { abytes, aint, UnseenError } from './errors.js';
import { randomBytes } from './random.js';

/** Bytes in a session id. */
export const SESSION_ID_BYTES = 16;
/** Bytes before the body: version, type, session id, body length. */
export const HEADER_BYTES = 2 + SESSION_ID_BYTES + 4;
/** Default limit on a body: 256 MiB. */
export const DEFAULT_MAX_BODY = 256 * 1024 * 1024;

/** A decoded message. `body` is a view into the input bytes. */
export interface Message {
  version: number;
  type: number;
  session: Uint8Array;
  body: Uint8Array;
}

/** What a receiver expects; every field given is checked. */
export interface MessageExpectation {
  /** The version this receiver speaks. */
  version?: number;
  /** The type, or types, acceptable in the current protocol state. */
  type?: number | readonly number[];
  /** The session this receiver is in. */
  session?: Uint8Array;
  /** Maximum body size in bytes (default {@link DEFAULT_MAX_BODY}). */
  maxBody?: number;
}

/** A fresh random 16-byte session id. */
export function newSessionId(): Uint8Array {
  return randomBytes(SESSION_ID_BYTES);
}

/**
 * Encodes a message envelope.
 * @example
 * ```ts
 * const bytes = encodeMessage({ version: 1, type: 2, session, body });
 * ```
 */
export function encodeMessage(message: Message): Uint8Array {
  aint(message.version, 'version', 0, 255);
  aint(message.type, 'type', 0, 255);
  abytes(message.session, 'session', SESSION_ID_BYTES);
  abytes(message.body, 'body');
  return new ByteWriter(HEADER_BYTES + message.body.length)
    .u8(message.version)
    .u8(message.type)
    .bytes(message.session)
    .varBytes(message.body)
    .finish();
}

/**
 * Decodes and checks a message envelope.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (truncated, extended, not bytes),
 * `ERR_MESSAGE_TOO_LARGE`, `ERR_UNSUPPORTED_VERSION`, `ERR_UNEXPECTED_MESSAGE`,
 * `ERR_SESSION_MISMATCH`
 */
export function decodeMessage(bytes: Uint8Array, expect: MessageExpectation = {}): Message {
  if (!(bytes instanceof Uint8Array)) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'message: expected Uint8Array');
  }
  const r = new ByteReader(bytes, 'message');
  const version = r.u8('version');
  const type = r.u8('type');
  const session = r.bytes(SESSION_ID_BYTES, 'session id');
  const length = r.u32('body length');
  const maxBody = expect.maxBody ?? DEFAULT_MAX_BODY;
  if (length > maxBody) {
    throw new UnseenError(
      'ERR_MESSAGE_TOO_LARGE',
      `message: body of ${length} bytes exceeds the limit of ${maxBody}`,
      {
        details: { length, max: maxBody },
      },
    );
  }
  const body = r.bytes(length, 'body');
  r.end();
  if (expect.version !== undefined && version !== expect.version) {
    throw new UnseenError(
      'ERR_UNSUPPORTED_VERSION',
      `message: version ${version}, expected ${expect.version}`,
      {
        details: { version, expected: expect.version },
      },
    );
  }
  if (expect.type !== undefined) {
    const types = typeof expect.type === 'number' ? [expect.type] : expect.type;
    if (!types.includes(type)) {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        `message: type ${type}, expected ${types.join(' or ')}`,
        {
          details: { type, expected: [...types] },
        },
      );
    }
  }
  if (expect.session !== undefined && !sameSession(session, expect.session)) {
    throw new UnseenError('ERR_SESSION_MISMATCH', 'message: belongs to another session', {
      details: { session: bytesToHex(session), expected: bytesToHex(expect.session) },
    });
  }
  return { version, type, session, body };
}

function sameSession(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
