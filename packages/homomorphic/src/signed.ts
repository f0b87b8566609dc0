/**
 * Signed contributions: a contribution bound, by its contributor's Ed25519 signature, to one
 * parameter set and one aggregation context (a round id). They let the key holder count distinct
 * contributors for itself instead of trusting the aggregator's count:
 *
 * ```
 * version u8 | 0x04 | params hash (32) | context length u8 | context (1..64) |
 * signer public key (32) | contribution (exactly as encryptContribution made it) | signature (64)
 * ```
 *
 * The signature covers `DOMAIN | params hash | context length | context | public key |
 * SHA-256(contribution)`, so a contribution cannot be moved to another context, parameter set or
 * signer, and cannot be altered. Whoever holds the registered public keys can check who
 * contributed; only the key holder decides what it decrypts.
 * @module
 */
import {
  abytes,
  ByteReader,
  ByteWriter,
  concatBytes,
  ED25519_PUBLIC_BYTES,
  ED25519_SIGNATURE_BYTES,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  ensureWellFormed,
  equalBytes,
  nodeCrypto,
  sha256,
  UnseenError,
  utf8ToBytes,
} from '@unseen/core';
import {
  decodeVectorParams,
  TYPE_CONTRIBUTION,
  TYPE_SIGNED,
  TYPE_SUM,
  VECTOR_VERSION,
  type VectorParams,
} from './seal/params.js';

/** Longest aggregation context, in bytes. */
export const MAX_CONTEXT_BYTES = 64;
const DOMAIN = utf8ToBytes('unseen/homomorphic/signed-contribution/v2');

/** SHA-256 through node:crypto where present (native, about 10x noble's speed), else noble. */
export function digest(bytes: Uint8Array): Uint8Array {
  const native = nodeCrypto?.hash?.('sha256', bytes, 'buffer');
  return native === undefined ? sha256(bytes) : new Uint8Array(native);
}

/** Checks an aggregation context: 1 to 64 bytes. */
export function acontext(context: unknown): Uint8Array {
  abytes(context, 'context');
  const c = context as Uint8Array;
  if (c.length < 1 || c.length > MAX_CONTEXT_BYTES) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `context: expected 1 to ${MAX_CONTEXT_BYTES} bytes, got ${c.length}`,
    );
  }
  return c;
}

function signedMessage(
  params: VectorParams,
  context: Uint8Array,
  publicKey: Uint8Array,
  contributionDigest: Uint8Array,
): Uint8Array {
  return concatBytes(
    DOMAIN,
    params.hash,
    Uint8Array.of(context.length),
    context,
    publicKey,
    contributionDigest,
  );
}

/** Options of {@link signContribution}. */
export interface SignOptions {
  /** The contributor's Ed25519 secret key (32 bytes; `generateSigningKey()` of @unseen/core). */
  secretKey: Uint8Array;
  /** The aggregation this contribution is for (1 to 64 bytes, e.g. a session id and a round). */
  context: Uint8Array;
}

/**
 * Signs a contribution for one aggregation context.
 * @param publicParams the key holder's public parameters
 * @param contribution what `encryptContribution` returned
 * @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_MALFORMED_MESSAGE` (not a contribution of
 * these parameters)
 * @example
 * ```ts
 * const me = generateSigningKey(); // register me.publicKey with the key holder
 * const signed = signContribution(holder.publicParams, contribution, { secretKey: me.secretKey, context });
 * ```
 */
export function signContribution(
  publicParams: Uint8Array,
  contribution: Uint8Array,
  options: SignOptions,
): Uint8Array {
  const params = decodeVectorParams(publicParams);
  const context = acontext(options.context);
  abytes(contribution, 'contribution');
  ensureWellFormed(
    contribution.length === params.contributionBytes &&
      contribution[0] === VECTOR_VERSION &&
      contribution[1] === TYPE_CONTRIBUTION &&
      equalBytes(contribution.subarray(2, 34), params.hash),
    'signContribution: not a contribution of these parameters',
  );
  const publicKey = ed25519PublicKey(options.secretKey);
  const signature = ed25519Sign(
    options.secretKey,
    signedMessage(params, context, publicKey, digest(contribution)),
  );
  return new ByteWriter(contribution.length + 180)
    .u8(VECTOR_VERSION)
    .u8(TYPE_SIGNED)
    .bytes(params.hash)
    .u8(context.length)
    .bytes(context)
    .bytes(publicKey)
    .bytes(contribution)
    .bytes(signature)
    .finish();
}

/** A signed contribution, checked. */
export interface VerifiedContribution {
  context: Uint8Array;
  /** The contributor's Ed25519 public key. */
  signer: Uint8Array;
  /** The inner contribution (a view into the input). */
  contribution: Uint8Array;
  /** SHA-256 of the contribution. */
  digest: Uint8Array;
}

/**
 * Decodes a signed contribution and checks its parameters, its size and its signature (not who
 * signed: the caller checks the signer against its registry).
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (truncated, extended, bad fields),
 * `ERR_UNSUPPORTED_VERSION`, `ERR_PARAMETER_MISMATCH` (other parameters),
 * `ERR_UNEXPECTED_MESSAGE` (an unsigned contribution or a sum), `ERR_INTEGRITY` (the signature
 * does not verify)
 */
export function verifySignedContribution(
  params: VectorParams,
  bytes: Uint8Array,
): VerifiedContribution {
  if (!(bytes instanceof Uint8Array)) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'signed contribution must be a Uint8Array');
  }
  const r = new ByteReader(bytes, 'signed contribution');
  const version = r.u8('version');
  if (version !== VECTOR_VERSION) {
    throw new UnseenError('ERR_UNSUPPORTED_VERSION', `contribution version ${version}`);
  }
  const type = r.u8('type');
  if (type !== TYPE_SIGNED) {
    throw new UnseenError(
      type === TYPE_CONTRIBUTION || type === TYPE_SUM
        ? 'ERR_UNEXPECTED_MESSAGE'
        : 'ERR_MALFORMED_MESSAGE',
      `expected a signed contribution, got message type ${type}`,
    );
  }
  if (!equalBytes(r.bytes(32, 'parameter hash'), params.hash)) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      'contribution was made under other parameters or another public key',
    );
  }
  const contextLength = r.u8('context length');
  ensureWellFormed(
    contextLength >= 1 && contextLength <= MAX_CONTEXT_BYTES,
    `signed contribution: context of ${contextLength} bytes`,
  );
  const context = r.bytes(contextLength, 'context');
  const signer = r.bytes(ED25519_PUBLIC_BYTES, 'signer');
  const contribution = r.bytes(params.contributionBytes, 'contribution');
  const signature = r.bytes(ED25519_SIGNATURE_BYTES, 'signature');
  r.end();
  const d = digest(contribution);
  if (!ed25519Verify(signer, signedMessage(params, context, signer, d), signature)) {
    throw new UnseenError('ERR_INTEGRITY', 'the contribution signature does not verify');
  }
  return { context, signer, contribution, digest: d };
}
