import { decodeMessage, encodeMessage, isUnseenError } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKeys,
  decodeShares,
  decodeUnmask,
  encodeKeys,
  encodeShares,
  encodeUnmask,
  envelope,
  MSG,
  open,
} from '../src/wire.js';
import { codeOf, Harness, plainSum } from './helpers.js';

const MAX = 2 ** 24;

/** Replaces the body of a message (same envelope). */
function rebody(message: Uint8Array, body: Uint8Array): Uint8Array {
  const m = decodeMessage(message);
  return encodeMessage({ ...m, body });
}

describe('tampered, replayed and misrouted messages give typed errors', () => {
  it('a tampered share ciphertext: ERR_INTEGRITY at the receiving client, which aborts', async () => {
    const h = await Harness.create({ clients: 4, length: 5 });
    await h.round();
    await h.round(); // the server now holds the shares messages
    const params = h.server.params;
    const msg = h.outgoing.get(0)!;
    const body = decodeShares(open(msg, MSG.shares, h.server.session, MAX).body, params);
    body.entries[1]!.ciphertext[5]! ^= 1;
    const err = await h.clients[0]!.handle(rebody(msg, encodeShares(body))).catch((e) => e);
    expect(err.code).toBe('ERR_INTEGRITY');
    expect(h.clients[0]!.stage).toBe('aborted');
  });

  it('a ciphertext relayed to the wrong client fails authentication (sender and receiver are bound)', async () => {
    const h = await Harness.create({ clients: 4, length: 5 });
    await h.round();
    await h.round();
    const params = h.server.params;
    const to0 = decodeShares(
      open(h.outgoing.get(0)!, MSG.shares, h.server.session, MAX).body,
      params,
    );
    const to1 = decodeShares(
      open(h.outgoing.get(1)!, MSG.shares, h.server.session, MAX).body,
      params,
    );
    // Give client 1 the ciphertext that client 2 encrypted for client 0, labelled as from 2.
    const from2to0 = to0.entries.find((e) => e.peer === 2)!;
    const forged = { to: 1, entries: to1.entries.map((e) => (e.peer === 2 ? from2to0 : e)) };
    expect(
      await codeOf(() => h.clients[1]!.handle(rebody(h.outgoing.get(1)!, encodeShares(forged)))),
    ).toBe('ERR_INTEGRITY');
    // Swap sender labels (the ciphertext of 2 presented as from 3).
    const swapped = {
      to: 0,
      entries: to0.entries
        .map((e) => ({ ...e, peer: e.peer === 2 ? 3 : e.peer === 3 ? 2 : e.peer }))
        .sort((x, y) => x.peer - y.peer),
    };
    expect(
      await codeOf(() => h.clients[0]!.handle(rebody(h.outgoing.get(0)!, encodeShares(swapped)))),
    ).toBe('ERR_INTEGRITY');
  });

  it('a message addressed to another client is refused without harm; the right one then works', async () => {
    const h = await Harness.create({ clients: 4, length: 5 });
    await h.round();
    expect(await codeOf(() => h.clients[1]!.handle(h.outgoing.get(0)!))).toBe(
      'ERR_UNEXPECTED_MESSAGE',
    );
    expect(h.clients[1]!.stage).toBe('advertiseKeys');
    const reply = await h.clients[1]!.handle(h.outgoing.get(1)!);
    expect(reply).toBeInstanceOf(Uint8Array);
  });

  it('replays: a client answers each round once; the server accepts each message once', async () => {
    const h = await Harness.create({ clients: 4, length: 5 });
    await h.deliver();
    const setup0 = h.outgoing.get(0)!;
    expect(await codeOf(() => h.clients[0]!.handle(setup0))).toBe('ERR_UNEXPECTED_MESSAGE');
    await h.server.receive(0, h.replies.get(0)!);
    expect(await codeOf(() => h.server.receive(0, h.replies.get(0)!))).toBe('ERR_REPLAY');
    // Concurrent copies: exactly one wins.
    const codes = await Promise.all(
      [1, 1, 1].map(() => codeOf(() => h.server.receive(1, h.replies.get(1)!))),
    );
    expect(codes.sort()).toEqual(['ERR_REPLAY', 'ERR_REPLAY', 'none']);
    await h.server.receive(2, h.replies.get(2)!);
    await h.server.receive(3, h.replies.get(3)!);
    const advertise0 = h.replies.get(0)!;
    await h.advance();
    // A message of the previous round, replayed now.
    expect(await codeOf(() => h.server.receive(0, advertise0))).toBe('ERR_UNEXPECTED_MESSAGE');
    expect(await codeOf(() => h.clients[0]!.handle(setup0))).toBe('ERR_UNEXPECTED_MESSAGE');
  });

  it("a message from another session, or carried on another client's channel, is refused", async () => {
    const a = await Harness.create({ clients: 4, length: 5 });
    const b = await Harness.create({ clients: 4, length: 5 });
    await a.deliver();
    await b.deliver();
    expect(await codeOf(() => a.server.receive(0, b.replies.get(0)!))).toBe('ERR_SESSION_MISMATCH');
    expect(await codeOf(() => a.server.receive(1, a.replies.get(0)!))).toBe('ERR_UNAUTHORIZED');
    await a.collect();
    await a.advance();
    await b.collect();
    await b.advance();
    expect(await codeOf(() => a.clients[0]!.handle(b.outgoing.get(0)!))).toBe(
      'ERR_SESSION_MISMATCH',
    );
  });

  it('active variant: an advertisement re-sent in another session fails its signature', async () => {
    const a = await Harness.create({ clients: 4, length: 5, active: true, threshold: 3 });
    await a.deliver();
    // Re-wrap client 0's advertisement into a session with the same keys and parameters.
    const forgedSession = await Harness.create({
      clients: 4,
      length: 5,
      active: true,
      threshold: 3,
    });
    const replayed = envelope(
      MSG.advertise,
      forgedSession.server.session,
      decodeMessage(a.replies.get(0)!).body,
    );
    // Different identities: the signature cannot verify under the new session's PKI or binding.
    expect(await codeOf(() => forgedSession.server.receive(0, replayed))).toBe('ERR_INTEGRITY');
  });

  it('active variant: a key list with an altered key fails its signature at the client', async () => {
    const h = await Harness.create({ clients: 4, length: 5, active: true, threshold: 3 });
    await h.round();
    const params = h.server.params;
    const keys = decodeKeys(open(h.outgoing.get(0)!, MSG.keys, h.server.session, MAX).body, params);
    keys.entries[2]!.cPK = keys.entries[3]!.cPK.slice();
    keys.entries[2]!.cPK[0]! ^= 2;
    const err = await h.clients[0]!.handle(
      rebody(h.outgoing.get(0)!, encodeKeys(keys, true)),
    ).catch((e) => e);
    expect(['ERR_INTEGRITY', 'ERR_INVALID_POINT']).toContain(err.code);
  });

  it("a client's own keys altered by the server: refused", async () => {
    const h = await Harness.create({ clients: 4, length: 5 });
    await h.round();
    const params = h.server.params;
    const keys = decodeKeys(open(h.outgoing.get(1)!, MSG.keys, h.server.session, MAX).body, params);
    const mine = keys.entries.find((e) => e.index === 1)!;
    mine.sPK = keys.entries.find((e) => e.index === 2)!.cPK; // a valid key, just not 1's
    expect(
      await codeOf(() => h.clients[1]!.handle(rebody(h.outgoing.get(1)!, encodeKeys(keys, false)))),
    ).toBe('ERR_PROTOCOL_ABORTED');
  });

  it('server: bad messages change nothing; the honest run then completes with the right sum', async () => {
    const g = await Harness.create({ clients: 5, length: 7 });
    const params = g.server.params;
    for (let r = 0; r < 4; r++) {
      await g.deliver();
      for (const [u, m] of g.replies) {
        // On another client's channel: that client has not sent yet (or has: then a replay).
        expect(await codeOf(() => g.server.receive((u + 1) % 5, m))).toBe(
          u === 4 ? 'ERR_REPLAY' : 'ERR_UNAUTHORIZED',
        );
        expect(await codeOf(() => g.server.receive(u, m.subarray(0, m.length - 1)))).toBe(
          'ERR_MALFORMED_MESSAGE',
        );
        expect(await codeOf(() => g.server.receive(u, Uint8Array.of(...m, 0)))).toBe(
          'ERR_MALFORMED_MESSAGE',
        );
        if (r === 3 && u === 0) {
          // An unmasking share with a corrupted byte (right x-coordinate): the reconstruction
          // steps around it, since 5 holders answer and t = 3 suffice.
          const body = decodeUnmask(open(m, MSG.unmask, g.server.session, MAX).body, params);
          body.entries[2]!.share[4]! ^= 0xff;
          await g.server.receive(u, rebody(m, encodeUnmask(body)));
        } else {
          await g.server.receive(u, m);
        }
      }
      const step = await g.advance();
      if (step.round === 'done') {
        expect(Array.from(step.result.sum)).toEqual(
          Array.from(plainSum(32, g.inputs, [0, 1, 2, 3, 4])),
        );
      }
    }
    expect(g.server.stage).toBe('done');
  });

  it('a corrupted share the server cannot step around: ERR_INTEGRITY, not a wrong sum', async () => {
    const g = await Harness.create({ clients: 3, length: 4, threshold: 3 });
    for (let r = 0; r < 3; r++) await g.round();
    await g.deliver();
    const m = g.replies.get(1)!;
    const body = decodeUnmask(open(m, MSG.unmask, g.server.session, MAX).body, g.server.params);
    body.entries[0]!.share[3]! ^= 1;
    g.replies.set(1, rebody(m, encodeUnmask(body)));
    await g.collect();
    expect(await codeOf(() => g.advance())).toBe('ERR_INTEGRITY');
  });

  /** A fresh 4-client active round, run honestly up to the start of round `r` (0 = setup). */
  async function at(r: number): Promise<Harness> {
    const h = await Harness.create({ clients: 4, length: 3, active: true, threshold: 3 });
    for (let i = 0; i < r; i++) await h.round();
    return h;
  }

  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), bit: fc.constant(0) }),
    fc.record({ kind: fc.constant('extend' as const), at: fc.nat(40), bit: fc.constant(0) }),
  );

  function mutate(message: Uint8Array, m: { kind: string; at: number; bit: number }): Uint8Array {
    if (m.kind === 'flip') {
      const out = message.slice();
      out[m.at % out.length]! ^= 1 << m.bit;
      return out;
    }
    if (m.kind === 'cut') return message.subarray(0, m.at % message.length);
    return Uint8Array.of(...message, ...new Uint8Array(m.at + 1));
  }

  const DECODING = [
    'ERR_MALFORMED_MESSAGE',
    'ERR_UNEXPECTED_MESSAGE',
    'ERR_SESSION_MISMATCH',
    'ERR_UNSUPPORTED_VERSION',
    'ERR_MESSAGE_TOO_LARGE',
  ];

  it('fuzz: a mutated server message gives the client a typed error, never a crash or a half state', async () => {
    for (let r = 0; r < 5; r++) {
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const h = await at(r);
          const client = h.clients[0]!;
          const before = client.stage;
          try {
            await client.handle(mutate(h.outgoing.get(0)!, m));
          } catch (e) {
            expect(isUnseenError(e)).toBe(true);
            const code = (e as { code: string }).code;
            // Undecodable: nothing changed, and the genuine message still works.
            if (DECODING.includes(code)) {
              expect(client.stage).toBe(before);
              expect(await client.handle(h.outgoing.get(0)!)).toBeInstanceOf(Uint8Array);
            } else expect(client.stage).toBe('aborted');
          }
        }),
        { numRuns: 25 },
      );
    }
  }, 120_000);

  it('fuzz: a mutated client message gives the server a typed error and leaves it as it was', async () => {
    for (let r = 0; r < 5; r++) {
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const h = await at(r);
          await h.deliver();
          const genuine = h.replies.get(0)!;
          try {
            await h.server.receive(0, mutate(genuine, m));
            return; // accepted (e.g. a flipped bit of a masked input): a valid, different message
          } catch (e) {
            expect(isUnseenError(e)).toBe(true);
          }
          await h.server.receive(0, genuine);
          expect(h.server.awaiting()).not.toContain(0);
        }),
        { numRuns: 25 },
      );
    }
  }, 120_000);
});
