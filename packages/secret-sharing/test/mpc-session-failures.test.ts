import { type Channel, isUnseenError, newSessionId } from '@unseen/core';
import {
  decodeInput,
  decodeMaterial,
  decodeOpen,
  encodeInput,
  encodeMaterial,
  encodeOpen,
  encodeRequest,
  MPC_MESSAGE,
  TrustedDealer,
} from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOfAsync } from './helpers.js';
import { codes, runParties } from './mpc-harness.js';

/** A channel whose outgoing `open` messages pass through `tamper`. */
function tampering(channel: Channel, tamper: (m: Uint8Array) => Uint8Array): Channel {
  return {
    send: (m) => channel.send(m[1] === MPC_MESSAGE.open ? tamper(m.slice()) : m),
    receive: (o) => channel.receive(o),
    close: () => channel.close(),
    get closed() {
      return channel.closed;
    },
    get bytesSent() {
      return channel.bytesSent;
    },
    get bytesReceived() {
      return channel.bytesReceived;
    },
  };
}

const HEADER = 22; // version, type, session (16), length (4)

/** A copy of `m` with byte `at` replaced by `f(old byte)`. */
const setByte =
  (at: number, f: (old: number) => number) =>
  (m: Uint8Array): Uint8Array => {
    const out = m.slice();
    out[at] = f(out[at]!);
    return out;
  };

async function revealWith(tamper: (m: Uint8Array) => Uint8Array) {
  return runParties(
    3,
    async (s, p) => {
      const x = await s.input(0, p === 0 ? Uint32Array.of(1, 0, 2, 0) : 2);
      // Party 0 sends its share before it reads party 1's, so parties 1 and 2 complete this
      // opening; they learn of party 0's abort in the next step.
      await s.reveal(x);
      return s.reveal(x);
    },
    {
      timeoutMs: 1_000,
      wrapPeer: (from, to, c) => (from === 1 && to === 0 ? tampering(c, tamper) : c),
    },
  );
}

describe('MpcSession: bad messages, timeouts and disagreements end the session with typed errors', () => {
  it('a tampered message is refused with its own code, and the peers learn of the abort', async () => {
    const cases: [string, (m: Uint8Array) => Uint8Array][] = [
      ['ERR_SESSION_MISMATCH', setByte(5, (b) => b ^ 1)],
      ['ERR_UNSUPPORTED_VERSION', setByte(0, () => 9)],
      ['ERR_MALFORMED_MESSAGE', (m) => m.subarray(0, m.length - 3)],
      ['ERR_MALFORMED_MESSAGE', (m) => Uint8Array.of(...m, 0)],
      ['ERR_UNEXPECTED_MESSAGE', setByte(HEADER + 3, (b) => b + 1)], // step
      ['ERR_UNEXPECTED_MESSAGE', setByte(HEADER + 5, () => 2)], // from
      ['ERR_PARAMETER_MISMATCH', setByte(HEADER + 6, () => 32)], // bits
      ['ERR_UNEXPECTED_MESSAGE', setByte(1, () => MPC_MESSAGE.input)], // type
    ];
    for (const [code, tamper] of cases) {
      const { outcomes } = await revealWith(tamper);
      const got = codes(outcomes);
      expect(got[0]).toBe(code);
      expect(got[1]).toBe('ERR_PROTOCOL_ABORTED');
      expect(got[2]).toBe('ERR_PROTOCOL_ABORTED');
    }
  });

  it('random bytes in place of a message never give anything but an UnseenError (fuzz)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 80 }), async (junk) => {
        const { outcomes } = await revealWith(() => junk);
        expect(outcomes[0]!.status).toBe('rejected');
        for (const o of outcomes)
          if (o.status === 'rejected') expect(isUnseenError(o.reason)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('a silent party makes the others time out; the session then refuses further calls', async () => {
    const { outcomes } = await runParties(
      3,
      async (s, p) => {
        const x = await s.input(0, p === 0 ? Uint32Array.of(5, 0) : 1);
        if (p === 2) return 'left';
        const err = await codeOfAsync(() => s.reveal(x));
        return [err, await codeOfAsync(() => s.reveal(x)), s.failure?.code];
      },
      { timeoutMs: 150 },
    );
    const [a, b, c] = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason));
    expect(c).toBe('left');
    // Each waiting party either times out itself or first hears the other's abort.
    for (const v of [a, b] as string[][]) {
      expect(['ERR_TIMEOUT', 'ERR_PROTOCOL_ABORTED']).toContain(v[0]);
      expect(v[1]).toBe('ERR_INVALID_STATE');
    }
    expect([a, b].some((v) => (v as string[])[0] === 'ERR_TIMEOUT')).toBe(true);
  });

  it('parties that disagree on a length, a ring or a session fail with typed errors', async () => {
    const lengthMismatch = await runParties(3, async (s, p) => {
      const x = await s.input(0, p === 0 ? Uint32Array.of(1, 0, 2, 0) : p === 2 ? 3 : 2);
      return s.reveal(x);
    });
    expect(codes(lengthMismatch.outcomes)).toEqual([
      'ERR_PROTOCOL_ABORTED',
      'ERR_PROTOCOL_ABORTED',
      'ERR_PARAMETER_MISMATCH',
    ]);

    const ringMismatch = await runParties(
      2,
      async (s, p) => s.reveal(await s.input(0, p === 0 ? Uint32Array.of(1, 0) : 1)),
      { session: (p) => (p === 1 ? { bits: 32 } : {}) },
    );
    expect(codes(ringMismatch.outcomes)).toEqual([
      'ERR_PROTOCOL_ABORTED',
      'ERR_PARAMETER_MISMATCH',
    ]);

    const other = newSessionId();
    const sessionMismatch = await runParties(
      2,
      async (s, p) => s.reveal(await s.input(0, p === 0 ? Uint32Array.of(1, 0) : 1)),
      { session: (p) => (p === 1 ? { session: other } : {}) },
    );
    // Party 1's abort carries its own session id, so party 0 refuses it too: no party trusts a
    // message of another session, not even an abort.
    expect(codes(sessionMismatch.outcomes)).toEqual([
      'ERR_SESSION_MISMATCH',
      'ERR_SESSION_MISMATCH',
    ]);
  });

  it('the dealer refuses parties asking for different material, and every party learns it', async () => {
    const { outcomes, dealer } = await runParties(3, async (s, p) => {
      const x = await s.input(0, p === 0 ? new Uint32Array(6) : 3);
      const y = p === 1 ? s.slice(x, 0, 2) : x; // party 1 multiplies a shorter vector
      return s.mul(y, y);
    });
    expect(codes(outcomes)).toEqual([
      'ERR_PROTOCOL_ABORTED',
      'ERR_PROTOCOL_ABORTED',
      'ERR_PROTOCOL_ABORTED',
    ]);
    expect(dealer.status === 'rejected' && (dealer.reason as { code: string }).code).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    for (const o of outcomes) {
      expect((o as PromiseRejectedResult).reason.details).toMatchObject({
        from: 0xffff,
        code: 'ERR_PARAMETER_MISMATCH',
      });
    }
  });

  it('a session without a dealer cannot multiply', async () => {
    const { outcomes } = await runParties(
      2,
      async (s, p) => {
        const x = await s.input(0, p === 0 ? Uint32Array.of(1, 0) : 1);
        return s.mul(x, x);
      },
      { session: () => ({ dealer: undefined }) },
    );
    expect(codes(outcomes)).toEqual(['ERR_INVALID_STATE', 'ERR_INVALID_STATE']);
  });
});

describe('MPC message decoders and the sans-I/O dealer on hostile bytes', () => {
  const session = newSessionId();
  const spec = { kind: 'triple' as const, bits: 64 as const, length: 2, shift: 0 };
  const samples = [
    encodeInput(session, 3, 1, 64, 2, new Uint8Array(16)),
    encodeOpen(session, 3, 1, 64, Uint32Array.of(1, 2, 3, 4)),
    encodeMaterial(session, 1, spec, new Uint8Array(16), new Uint32Array(4)),
  ];
  const decoders = [
    (b: Uint8Array) => decodeInput(b, { session, step: 3, from: 1, bits: 64, length: 2 }),
    (b: Uint8Array) => decodeOpen(b, { session, step: 3, from: 1, bits: 64, words: 4 }),
    (b: Uint8Array) => decodeMaterial(b, { session, request: 1, spec, correctionWords: 4 }),
  ];

  it('round-trip, and any flipped bit, cut or extension is refused or decodes differently', () => {
    samples.forEach((bytes, k) => {
      const decode = decoders[k]!;
      const good = decode(bytes);
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: bytes.length * 8 - 1 }),
          fc.integer({ min: 0, max: bytes.length - 1 }),
          (bit, cut) => {
            const flipped = bytes.slice();
            flipped[bit >> 3] = flipped[bit >> 3]! ^ (1 << (bit & 7));
            for (const bad of [flipped, bytes.subarray(0, cut), Uint8Array.of(...bytes, 7)]) {
              try {
                expect(decode(bad)).not.toEqual(good);
              } catch (e) {
                expect(isUnseenError(e)).toBe(true);
              }
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  it('the dealer answers consistent requests and refuses junk with typed errors', async () => {
    const dealer = new TrustedDealer({ parties: 2, session });
    const good = [0, 1].map((p) => encodeRequest(session, 1, p, 2, spec));
    expect(await dealer.respond(good)).toHaveLength(2);
    expect(await codeOfAsync(() => dealer.respond(good))).toBe('ERR_UNEXPECTED_MESSAGE'); // replayed request 1
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (junk) => {
        const code = await codeOfAsync(() =>
          dealer.respond([junk, encodeRequest(session, 2, 1, 2, spec)]),
        );
        expect(code).toMatch(/^ERR_/);
      }),
      { numRuns: 200 },
    );
    const huge = { ...spec, length: 2 ** 30 };
    expect(
      await codeOfAsync(() =>
        dealer.respond([0, 1].map((p) => encodeRequest(session, 2, p, 2, huge))),
      ),
    ).toBe('ERR_MESSAGE_TOO_LARGE');
  });
});
