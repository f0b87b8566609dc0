/**
 * Per-thread cache of SEAL sessions with a public key loaded, keyed by the parameter hash, so
 * that repeated encryptions (and every call a pool worker serves) reuse one context. At most
 * two parameter sets are kept; an evicted session is disposed (its WebAssembly memory freed).
 * @module
 */
import { bytesToHex } from '@unseen/core';
import { SealSession } from './adapter.js';
import type { VectorParams } from './params.js';

const MAX_SESSIONS = 2;
const sessions = new Map<string, Promise<SealSession>>();

/** The SEAL session for `params` with its public key loaded (created on first use). */
export function encryptionSession(params: VectorParams): Promise<SealSession> {
  const key = bytesToHex(params.hash);
  const hit = sessions.get(key);
  if (hit !== undefined) {
    // Refresh its position (Map keeps insertion order: the first key is the oldest).
    sessions.delete(key);
    sessions.set(key, hit);
    return hit;
  }
  const created = (async () => {
    const session = await SealSession.create({
      scheme: params.scheme,
      polyModulusDegree: params.polyModulusDegree,
      coeffModulus: params.coeffModulus,
      plainModulus: params.plainModulus,
    });
    try {
      session.usePublicKey(params.publicKey);
    } catch (e) {
      session.dispose();
      throw e;
    }
    return session;
  })();
  sessions.set(key, created);
  created.catch(() => sessions.delete(key));
  while (sessions.size > MAX_SESSIONS) {
    const [oldest, session] = sessions.entries().next().value as [string, Promise<SealSession>];
    sessions.delete(oldest);
    session.then((s) => s.dispose()).catch(() => {});
  }
  return created;
}

/** Disposes every cached session of this thread (tests; long-lived processes switching keys). */
export async function clearEncryptionSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const s of all) {
    try {
      (await s).dispose();
    } catch {
      // a session that failed to build holds nothing
    }
  }
}
