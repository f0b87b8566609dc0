/**
 * Identities: every party of an exchange (the exchange itself, providers, consumers and
 * operators) holds an ed25519 key pair (RFC 8032, through @unseen/core: node:crypto where the
 * platform has it, else @noble/curves; both strict and checked against RFC 8032). A party is named by
 * its key id, a hash of its public key. Every signature is domain-separated: the signed bytes
 * are `domain || 0x00 || message`, so that a signature made for one purpose (a request, a
 * report, a relay frame) can never be replayed as another. Verification is strict RFC 8032
 * (non-canonical encodings and small-order keys rejected, no ZIP-215 leniency).
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  abytes,
  aoneOf,
  bytesToHex,
  concatBytes,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  generateSigningKey,
  hexToBytes,
  sha256,
  UnseenError,
  utf8ToBytes,
} from '@unseen/core';

/** What a party may be. Roles decide what each may do (see `roles.ts`). */
export const ROLES = ['exchange', 'provider', 'consumer', 'operator'] as const;
/** A party's role. */
export type Role = (typeof ROLES)[number];

/** Bytes in an ed25519 public key, secret key and signature. */
export const PUBLIC_KEY_BYTES = 32;
export const SECRET_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Hex characters in a key id (16 bytes of SHA-256). */
export const KEY_ID_HEX = 32;

const KEY_ID_RE = /^[0-9a-f]{32}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The public side of a party: what the exchange stores and everyone may read. */
export interface PublicIdentity {
  keyId: string;
  /** Hex ed25519 public key. */
  publicKey: string;
  role: Role;
  /** A short human name (letters, digits, `.`, `_`, `-`; at most 64). */
  name: string;
}

/** The key id of a public key: hex of the first 16 bytes of SHA-256("unseen/key-id/v1" 0x00 pk). */
export function keyIdOf(publicKey: Uint8Array): string {
  abytes(publicKey, 'publicKey', PUBLIC_KEY_BYTES);
  return bytesToHex(
    sha256(concatBytes(utf8ToBytes('unseen/key-id/v1'), new Uint8Array(1), publicKey)).subarray(
      0,
      16,
    ),
  );
}

/** Checks a key id's shape. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function akeyId(value: unknown, title = 'keyId'): string {
  if (typeof value !== 'string' || !KEY_ID_RE.test(value)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${title}: expected ${KEY_ID_HEX} lower-case hex characters`,
    );
  }
  return value;
}

/** Checks a party or object name. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function aname(value: unknown, title = 'name'): string {
  if (typeof value !== 'string' || !NAME_RE.test(value)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${title}: expected 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return value;
}

function domainMessage(domain: string, message: Uint8Array): Uint8Array {
  return concatBytes(utf8ToBytes(domain), new Uint8Array(1), abytes(message, 'message'));
}

/**
 * Verifies a domain-separated signature (strict RFC 8032).
 * @returns true when `signature` is `publicKey`'s signature over `domain || 0x00 || message`
 */
export function verifySignature(
  publicKey: Uint8Array,
  domain: string,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    return ed25519Verify(publicKey, domainMessage(domain, message), signature);
  } catch {
    return false;
  }
}

/** Parses a hex public key, refusing encodings that are not a valid ed25519 point. */
export function parsePublicKey(hex: unknown, title = 'publicKey'): Uint8Array {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${title}: expected 64 lower-case hex characters`,
    );
  }
  const pk = hexToBytes(hex);
  try {
    const point = ed25519.Point.fromBytes(pk, false);
    if (point.isSmallOrder()) throw new Error('small order');
  } catch (cause) {
    throw new UnseenError('ERR_INVALID_POINT', `${title}: not a valid ed25519 public key`, {
      cause,
    });
  }
  return pk;
}

/** Checks a public identity record and returns a clean copy. @throws UnseenError */
export function parsePublicIdentity(value: unknown): PublicIdentity {
  if (typeof value !== 'object' || value === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'identity: expected an object');
  }
  const v = value as Record<string, unknown>;
  const pk = parsePublicKey(v.publicKey);
  const keyId = keyIdOf(pk);
  if (v.keyId !== undefined && v.keyId !== keyId) {
    throw new UnseenError('ERR_INTEGRITY', 'identity: keyId does not match the public key');
  }
  return {
    keyId,
    publicKey: bytesToHex(pk),
    role: aoneOf(v.role, ROLES, 'role'),
    name: aname(v.name),
  };
}

/** The JSON form of a key file (secret: store with mode 0600). */
export interface KeyFile {
  version: 1;
  role: Role;
  name: string;
  publicKey: string;
  secretKey: string;
}

/**
 * A party's key pair. The secret key never leaves this object except through
 * {@link Identity.toKeyFile}.
 * @example
 * ```ts
 * const alice = Identity.generate('consumer', 'alice');
 * const sig = alice.sign('unseen/example/v1', new Uint8Array([1, 2]));
 * verifySignature(alice.publicKey, 'unseen/example/v1', new Uint8Array([1, 2]), sig); // true
 * ```
 */
export class Identity {
  readonly role: Role;
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  readonly #secretKey: Uint8Array;

  private constructor(role: Role, name: string, secretKey: Uint8Array) {
    this.role = aoneOf(role, ROLES, 'role');
    this.name = aname(name);
    this.#secretKey = abytes(secretKey, 'secretKey', SECRET_KEY_BYTES).slice();
    this.publicKey = ed25519PublicKey(this.#secretKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  /** A fresh key pair from `crypto.getRandomValues`. */
  static generate(role: Role, name: string): Identity {
    return new Identity(role, name, generateSigningKey().secretKey);
  }

  /** The identity of a 32-byte RFC 8032 secret key (seed). */
  static fromSecretKey(role: Role, name: string, secretKey: Uint8Array): Identity {
    return new Identity(role, name, secretKey);
  }

  /** Loads a key file's JSON. @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_INTEGRITY` */
  static fromKeyFile(value: unknown): Identity {
    if (
      typeof value !== 'object' ||
      value === null ||
      (value as { version?: unknown }).version !== 1
    ) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'key file: expected { version: 1, ... }');
    }
    const v = value as Record<string, unknown>;
    if (typeof v.secretKey !== 'string' || !/^[0-9a-f]{64}$/.test(v.secretKey)) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        'key file: secretKey must be 64 hex characters',
      );
    }
    const id = new Identity(v.role as Role, v.name as string, hexToBytes(v.secretKey));
    if (v.publicKey !== bytesToHex(id.publicKey)) {
      throw new UnseenError('ERR_INTEGRITY', 'key file: publicKey does not match secretKey');
    }
    return id;
  }

  /** The key file JSON, secret included. */
  toKeyFile(): KeyFile {
    return {
      version: 1,
      role: this.role,
      name: this.name,
      publicKey: bytesToHex(this.publicKey),
      secretKey: bytesToHex(this.#secretKey),
    };
  }

  /** The public record of this party. */
  get public(): PublicIdentity {
    return {
      keyId: this.keyId,
      publicKey: bytesToHex(this.publicKey),
      role: this.role,
      name: this.name,
    };
  }

  /** Signs `domain || 0x00 || message` (RFC 8032 ed25519, deterministic). */
  sign(domain: string, message: Uint8Array): Uint8Array {
    return ed25519Sign(this.#secretKey, domainMessage(domain, message));
  }
}
