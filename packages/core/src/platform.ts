/**
 * The platform's `node:crypto`, found once for every unseen package: Node (and Deno and Bun)
 * expose it through `process.getBuiltinModule`, which works from ESM and from bundles without a
 * static `import 'node:crypto'`, so the same code loads in browsers, where it is `undefined` and
 * callers use WebCrypto or @noble instead.
 *
 * Typed here with only the functions unseen calls, so that neither core nor its users need
 * `@types/node`. Functions newer than Node 20.0 (`hash`, 20.12) are optional: test for them.
 * @module
 */

/** A node:crypto `KeyObject`, as far as unseen uses it. */
export interface NodeKeyObject {
  /** The key as a JWK (`x` the public part of an OKP key, `d` the private part). */
  export(options: { format: 'jwk' }): { x?: string; d?: string };
}

/** A node:crypto cipher or decipher (AES-CTR, AES-GCM). */
export interface NodeCipher {
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  setAAD(aad: Uint8Array): unknown;
  getAuthTag(): Uint8Array;
  setAuthTag(tag: Uint8Array): unknown;
}

/** A raw key imported through JWK: an OKP key (RFC 8037) is `{ kty: 'OKP', crv, x, d? }`. */
export interface NodeJwkInput {
  key: { kty: string; crv: string; x: string; d?: string };
  format: 'jwk';
}

/**
 * A node:crypto finite-field `DiffieHellman`, as far as unseen uses it: with a private key `x`
 * set, `computeSecret(y)` is `y^x mod prime` (big-endian, padded to the prime's length), computed
 * by OpenSSL's constant-time Montgomery exponentiation. It throws for `y` outside
 * `[2, prime - 2]` and for a result of 0, 1 or `prime - 1`.
 */
export interface NodeDiffieHellman {
  setPrivateKey(privateKey: Uint8Array): void;
  computeSecret(otherPublicKey: Uint8Array): Uint8Array;
}

/** The functions of node:crypto that unseen packages call. */
export interface NodeCrypto {
  createPrivateKey(
    input: { key: Uint8Array; format: 'der'; type: 'pkcs8' } | NodeJwkInput,
  ): NodeKeyObject;
  createPublicKey(input: NodeKeyObject | NodeJwkInput): NodeKeyObject;
  diffieHellman(input: { privateKey: NodeKeyObject; publicKey: NodeKeyObject }): Uint8Array;
  sign(algorithm: null, data: Uint8Array, key: NodeKeyObject): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: NodeKeyObject, signature: Uint8Array): boolean;
  createCipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): NodeCipher;
  createDecipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): NodeCipher;
  hkdfSync(
    digest: string,
    ikm: Uint8Array,
    salt: Uint8Array,
    info: Uint8Array,
    length: number,
  ): ArrayBuffer;
  /**
   * A Diffie-Hellman group from big-endian `prime` and `generator` bytes. The prime is not
   * required to be prime (only reported in `verifyError`), so any odd modulus works:
   * @unseen/homomorphic uses it for constant-time exponentiation with secret exponents.
   */
  createDiffieHellman(prime: Uint8Array, generator: Uint8Array): NodeDiffieHellman;
  /** One-shot digest (Node 20.12+). */
  hash?: (algorithm: string, data: Uint8Array, outputEncoding: 'buffer') => Uint8Array;
}

function load(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  return typeof mod?.createCipheriv === 'function' && typeof mod.diffieHellman === 'function'
    ? mod
    : undefined;
}

/**
 * node:crypto where the platform has it, else `undefined` (browsers).
 * @example
 * ```ts
 * const digest = nodeCrypto?.hash?.('sha256', data, 'buffer') ?? sha256(data);
 * ```
 */
export const nodeCrypto: NodeCrypto | undefined = load();
