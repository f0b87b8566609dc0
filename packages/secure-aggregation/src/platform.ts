/**
 * The platform's node:crypto, where there is one (Node, Deno and Bun through
 * `process.getBuiltinModule`), typed with the few functions this package calls; undefined in
 * browsers, which use WebCrypto or @noble/curves instead.
 * @module
 */

/** A node:crypto key object, as far as this package uses it. */
export interface NodeKeyObject {
  export(options: { format: 'jwk' }): { x?: string; d?: string };
}

/** A node:crypto cipher or decipher (AES-GCM). */
export interface NodeCipher {
  setAAD(aad: Uint8Array): unknown;
  update(data: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
  setAuthTag(tag: Uint8Array): unknown;
}

/** The functions of node:crypto this package uses. */
export interface NodeCrypto {
  createPrivateKey(input: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NodeKeyObject;
  createPublicKey(
    input: NodeKeyObject | { key: { kty: string; crv: string; x: string }; format: 'jwk' },
  ): NodeKeyObject;
  diffieHellman(input: { privateKey: NodeKeyObject; publicKey: NodeKeyObject }): Uint8Array;
  sign(algorithm: null, data: Uint8Array, key: NodeKeyObject): Uint8Array;
  verify(algorithm: null, data: Uint8Array, key: NodeKeyObject, signature: Uint8Array): boolean;
  createCipheriv(alg: string, key: Uint8Array, iv: Uint8Array): NodeCipher;
  createDecipheriv(alg: string, key: Uint8Array, iv: Uint8Array): NodeCipher;
}

function load(): NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const mod = proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  return typeof mod?.diffieHellman === 'function' ? mod : undefined;
}

/** node:crypto, or undefined where the platform has none. */
export const nodeCrypto: NodeCrypto | undefined = load();
