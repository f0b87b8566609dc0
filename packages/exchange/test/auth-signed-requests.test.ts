import { utf8ToBytes } from '@unseen/core';
import {
  AUTH_HEADERS,
  Identity,
  MemoryReplayGuard,
  signRequest,
  verifyRequest,
} from '@unseen/exchange';
import { describe, expect, it } from 'vitest';

const alice = Identity.generate('consumer', 'alice');
const mallory = Identity.generate('consumer', 'mallory');
const audience = Identity.generate('exchange', 'ex').keyId;
const keys = new Map([[alice.keyId, alice.publicKey]]);
const lookup = (k: string) => keys.get(k);

function request(
  overrides: Partial<{ method: string; path: string; body: Uint8Array; audience: string }> = {},
) {
  return {
    method: 'POST',
    path: '/v1/jobs?x=1',
    body: utf8ToBytes('{"a":1}'),
    audience,
    ...overrides,
  };
}

function asVerifiable(req: ReturnType<typeof request>, headers: Record<string, string>) {
  return { ...req, headers: new Headers(headers) };
}

describe('signed requests', () => {
  it('a signed request verifies once and names its signer', async () => {
    const guard = new MemoryReplayGuard({ notBefore: 0 });
    const req = request();
    const headers = signRequest(alice, req);
    expect(await verifyRequest(asVerifiable(req, headers), lookup, guard)).toBe(alice.keyId);
    await expect(verifyRequest(asVerifiable(req, headers), lookup, guard)).rejects.toMatchObject({
      code: 'ERR_REPLAY',
      details: { reason: 'nonce-reused' },
    });
  });

  it('any change to method, path, query, body or audience breaks the signature', async () => {
    const req = request();
    const headers = signRequest(alice, req);
    for (const changed of [
      request({ method: 'PUT' }),
      request({ path: '/v1/jobs?x=2' }),
      request({ path: '/v1/jobs' }),
      request({ body: utf8ToBytes('{"a":2}') }),
      request({ audience: Identity.generate('exchange', 'other').keyId }),
    ]) {
      const guard = new MemoryReplayGuard({ notBefore: 0 });
      await expect(
        verifyRequest(asVerifiable(changed, headers), lookup, guard),
      ).rejects.toMatchObject({
        code: 'ERR_UNAUTHORIZED',
        details: { reason: 'bad-signature' },
      });
      expect(guard.size).toBe(0); // a failed request never takes a nonce slot
    }
  });

  it('refuses unsigned, malformed, unknown-key and wrongly signed requests', async () => {
    const guard = new MemoryReplayGuard({ notBefore: 0 });
    const req = request();
    const good = signRequest(alice, req);
    const cases: [Record<string, string>, string][] = [
      [{}, 'unsigned'],
      [{ ...good, [AUTH_HEADERS.signature]: 'xyz' }, 'malformed-header'],
      [{ ...good, [AUTH_HEADERS.key]: 'ALICE' }, 'malformed-header'],
      [{ ...good, [AUTH_HEADERS.nonce]: '00' }, 'malformed-header'],
      [signRequest(mallory, req), 'unknown-key'],
      [{ ...signRequest(mallory, req), [AUTH_HEADERS.key]: alice.keyId }, 'bad-signature'],
    ];
    for (const [headers, reason] of cases) {
      await expect(verifyRequest(asVerifiable(req, headers), lookup, guard)).rejects.toMatchObject({
        code: 'ERR_UNAUTHORIZED',
        details: { reason },
      });
    }
  });

  it('refuses timestamps outside the window and before the guard started', async () => {
    const now = Date.now();
    const guard = new MemoryReplayGuard({ windowMs: 60_000, notBefore: now - 10_000 });
    const req = request();
    for (const t of [now - 61_000, now + 61_000]) {
      await expect(
        verifyRequest(asVerifiable(req, signRequest(alice, req, t)), lookup, guard, now),
      ).rejects.toMatchObject({
        code: 'ERR_REPLAY',
        details: { reason: 'timestamp-window' },
      });
    }
    await expect(
      verifyRequest(asVerifiable(req, signRequest(alice, req, now - 20_000)), lookup, guard, now),
    ).rejects.toMatchObject({
      code: 'ERR_REPLAY',
      details: { reason: 'before-start' },
    });
    expect(
      await verifyRequest(
        asVerifiable(req, signRequest(alice, req, now - 5_000)),
        lookup,
        guard,
        now,
      ),
    ).toBe(alice.keyId);
  });

  it('forgets nonces once their timestamps have left the window, and caps its memory', async () => {
    const guard = new MemoryReplayGuard({ windowMs: 1000, notBefore: 0, maxEntries: 3 });
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) guard.check(alice.keyId, `n${i}`, t0, t0);
    expect(() => guard.check(alice.keyId, 'n3', t0, t0)).toThrow(
      expect.objectContaining({ code: 'ERR_QUOTA_EXCEEDED' }),
    );
    // 2 s later the old entries expire and room returns.
    guard.check(alice.keyId, 'n4', t0 + 2000, t0 + 2000);
    expect(guard.size).toBe(1);
  });
});
