/**
 * Typed errors with stable codes, and input validators in noble's style.
 *
 * Every failure that a caller may want to handle programmatically is an {@link UnseenError}
 * whose `code` is one of {@link ErrorCode}. Codes are part of the public contract: they never
 * change meaning. Messages say what was expected and what arrived, and never carry a secret.
 *
 * The `a*` validators return the value they checked, so they compose inline:
 * `const n = aint(opts.shares, 'shares', 2, 255)`.
 * @module
 */

/** Every error code unseen raises. Stable: a code never changes meaning. */
export const ERROR_CODES = [
  /** An argument passed by the caller has the wrong type, size or range. */
  'ERR_INVALID_ARGUMENT',
  /** A message or serialized object is truncated, extended or structurally invalid. */
  'ERR_MALFORMED_MESSAGE',
  /** A message or object exceeds a configured size limit. */
  'ERR_MESSAGE_TOO_LARGE',
  /** A message carries a protocol version this implementation does not speak. */
  'ERR_UNSUPPORTED_VERSION',
  /** A message of another type than the protocol state expects. */
  'ERR_UNEXPECTED_MESSAGE',
  /** A message belongs to another session. */
  'ERR_SESSION_MISMATCH',
  /** The parties disagree on parameters (suite, modulus, length, key hash, ...). */
  'ERR_PARAMETER_MISMATCH',
  /** A group element is not a valid, canonical, non-identity element of the expected group. */
  'ERR_INVALID_POINT',
  /** A share is malformed, duplicated, or fails verification. */
  'ERR_INVALID_SHARE',
  /** Fewer shares or participants than the threshold require. */
  'ERR_INSUFFICIENT_SHARES',
  /** An integrity check (MAC, AEAD tag, signature, hash chain) failed. */
  'ERR_INTEGRITY',
  /** A value does not fit the numeric range it must be encoded into. */
  'ERR_OVERFLOW',
  /** A protocol object was used out of order, or after it failed or finished. */
  'ERR_INVALID_STATE',
  /** A protocol run was aborted (by a party, or because it can no longer succeed). */
  'ERR_PROTOCOL_ABORTED',
  /** A wait exceeded its time limit. */
  'ERR_TIMEOUT',
  /** The channel was closed while sending or waiting for a message. */
  'ERR_CHANNEL_CLOSED',
  /** The operation was cancelled through an AbortSignal. */
  'ERR_ABORTED',
  /** A worker died (crash, exit, out of memory) while running a call. */
  'ERR_WORKER_DIED',
  /** The platform lacks a required capability (e.g. WebCrypto X25519). */
  'ERR_UNSUPPORTED',
  /** A policy forbids the requested computation. */
  'ERR_POLICY_DENIED',
  /** A query quota is used up. */
  'ERR_QUOTA_EXCEEDED',
  /** A differential-privacy budget is used up. */
  'ERR_BUDGET_EXHAUSTED',
  /** The request is not authenticated, or the signer may not do this. */
  'ERR_UNAUTHORIZED',
  /** A request or message was seen before, or is outside its time window. */
  'ERR_REPLAY',
  /** A referenced object does not exist. */
  'ERR_NOT_FOUND',
  /** An object with this identity already exists. */
  'ERR_CONFLICT',
  /** A service failed unexpectedly (a bug); the details are logged, not returned. */
  'ERR_INTERNAL',
] as const;

/** A stable error code; see {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES);

/**
 * The one error class of unseen. `code` is stable and machine-readable; `message` is for people;
 * `details` holds non-secret structured context (expected/actual sizes, indices, ...).
 * @example
 * ```ts
 * try { decodeMessage(bytes); } catch (e) {
 *   if (isUnseenError(e, 'ERR_MALFORMED_MESSAGE')) console.log('bad frame', e.details);
 * }
 * ```
 */
export class UnseenError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UnseenError';
    this.code = code;
    this.details = options.details;
  }

  /** A plain object for logs and JSON APIs: `{ code, message, details }`. */
  toJSON(): { code: ErrorCode; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True when `e` is an {@link UnseenError}, optionally with the given code. Works across
 * realms and duplicated package copies by checking the shape, not only the prototype.
 */
export function isUnseenError(e: unknown, code?: ErrorCode): e is UnseenError {
  if (e instanceof UnseenError) return code === undefined || e.code === code;
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown; name?: unknown }).code;
  return (
    (e as { name?: unknown }).name === 'UnseenError' &&
    typeof c === 'string' &&
    CODE_SET.has(c) &&
    (code === undefined || c === code)
  );
}

/** True when `code` is one of {@link ERROR_CODES}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && CODE_SET.has(code);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}`;
  if (Array.isArray(value)) return `array(${value.length})`;
  const t = typeof value;
  if (t === 'number' || t === 'bigint' || t === 'boolean') return `${t} ${String(value)}`;
  return `type=${t}`;
}

function invalid(title: string, expected: string, value: unknown): UnseenError {
  return new UnseenError(
    'ERR_INVALID_ARGUMENT',
    `${title ? `${title}: ` : ''}expected ${expected}, got ${describe(value)}`,
  );
}

/**
 * Checks that `value` is a Uint8Array, optionally of an exact length or one of several lengths.
 * @returns `value`
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function abytes(
  value: unknown,
  title = '',
  length?: number | readonly number[],
): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(title, 'Uint8Array', value);
  if (length !== undefined) {
    const ok = typeof length === 'number' ? value.length === length : length.includes(value.length);
    if (!ok) {
      const want = typeof length === 'number' ? String(length) : length.join(' or ');
      throw invalid(title, `Uint8Array of length ${want}`, value);
    }
  }
  return value;
}

/**
 * Checks that `value` is a safe integer in `[min, max]`.
 * @returns `value`
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function aint(
  value: unknown,
  title = '',
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(title, `integer in [${min}, ${max}]`, value);
  }
  return value;
}

/**
 * Checks that `value` is a finite number in `[min, max]`.
 * @returns `value`
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function anumber(value: unknown, title = '', min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(title, `finite number in [${min}, ${max}]`, value);
  }
  return value;
}

/**
 * Checks that `value` is a boolean.
 * @returns `value`
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function abool(value: unknown, title = ''): boolean {
  if (typeof value !== 'boolean') throw invalid(title, 'boolean', value);
  return value;
}

/**
 * Checks that `value` is one of `allowed`.
 * @returns `value`
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function aoneOf<const T extends readonly (string | number)[]>(
  value: unknown,
  allowed: T,
  title = '',
): T[number] {
  if (!allowed.includes(value as T[number])) {
    throw invalid(title, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T[number];
}

/**
 * Checks that `value` is a bigint in `[min, max)`.
 * @returns `value`
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function abigint(value: unknown, title = '', min?: bigint, maxExclusive?: bigint): bigint {
  if (
    typeof value !== 'bigint' ||
    (min !== undefined && value < min) ||
    (maxExclusive !== undefined && value >= maxExclusive)
  ) {
    throw invalid(title, `bigint in [${min ?? '-inf'}, ${maxExclusive ?? 'inf'})`, value);
  }
  return value;
}

/**
 * Raises `ERR_MALFORMED_MESSAGE` unless `condition` holds. For decoders.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE`
 */
export function ensureWellFormed(
  condition: boolean,
  message: string,
  details?: Record<string, unknown>,
): asserts condition {
  if (!condition) {
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      message,
      details === undefined ? {} : { details },
    );
  }
}
