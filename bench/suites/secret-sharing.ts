/**
 * secret-sharing: Shamir over GF(256) beside `shamir-secret-sharing` 0.0.4 and
 * `secrets.js-grempe` 2.0.0 (32-byte and 1 MiB secrets, 3-of-5, split and combine), additive
 * sharing of a 1M-element vector, prime-field Shamir, Feldman VSS, and Beaver multiplication in an
 * in-memory 3-party MpcSession.
 *
 * The peers are slow on 1 MiB (seconds to tens of seconds per call): their 1 MiB groups run a few
 * iterations without warm-up, and secrets.js-grempe joins them only with `--full`.
 */
import {
  type Channel,
  encodeFixedPoint,
  fillRandom,
  newSessionId,
  randomBytes,
} from '@unseen/core';
import {
  additive,
  feldman,
  fieldShamir,
  MpcSession,
  memoryMesh,
  randomFieldElements,
  runDealer,
  type SharedVector,
  shamir,
} from '@unseen/secret-sharing';
import secrets from 'secrets.js-grempe';
import { combine as peerCombine, split as peerSplit } from 'shamir-secret-sharing';
import { defineSuite, type GroupResult } from '../src/harness.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Mean ms of the task called `name` (or the first task of `role` when no name is given). */
function meanOf(g: GroupResult, role: 'unseen' | 'peer', name?: string): number {
  const t = g.tasks.find((x) => x.role === role && (name === undefined || x.name === name));
  return t?.meanMs ?? Number.NaN;
}

/** Three in-memory parties and a dealer, kept alive across iterations. */
async function mpcFixture(length: number) {
  const mesh = memoryMesh(3, { timeoutMs: 60_000 });
  const session = newSessionId();
  const dealer = runDealer({ parties: 3, session, channels: mesh.dealer, timeoutMs: 600_000 });
  const sessions = [0, 1, 2].map((p) =>
    MpcSession.create({
      party: p,
      parties: 3,
      peers: mesh.peers[p]!,
      dealer: mesh.toDealer[p]!,
      session,
    }),
  );
  const values = Float64Array.from({ length }, (_, i) => Math.sin(i) * 100);
  const share = (owner: number) =>
    Promise.all(sessions.map((s, p) => s.inputFixed(owner, p === owner ? values : length)));
  const x = await share(0);
  const y = await share(1);
  const close = async () => {
    for (const c of [...mesh.toDealer] as Channel[]) c.close();
    await dealer.catch(() => undefined);
    mesh.close();
  };
  return { sessions, x, y, close };
}

export default defineSuite({
  name: 'secret-sharing',
  title: '@unseen/secret-sharing: Shamir, additive sharing, VSS and Beaver MPC',
  async run(ctx) {
    // ---- Shamir over GF(256), 32-byte secret ----
    const key = randomBytes(32);
    const keyShares = shamir.split(key, { shares: 5, threshold: 3 });
    const keyPeerShares = (await peerSplit(key, 5, 3)).slice(0, 3);
    const keyHex = toHex(key);
    const keySecretsShares = secrets.share(keyHex, 5, 3).slice(0, 3);
    const split32 = await ctx.group({
      name: 'Shamir GF(256) split, 32-byte secret, 3-of-5',
      unit: 'bytes',
      tasks: [
        {
          name: 'shamir.split',
          role: 'unseen',
          items: 32,
          fn: () => shamir.split(key, { shares: 5, threshold: 3 }),
        },
        {
          name: 'shamir-secret-sharing split',
          role: 'peer',
          items: 32,
          fn: () => peerSplit(key, 5, 3),
        },
        {
          name: 'secrets.js-grempe share',
          role: 'peer',
          items: 32,
          fn: () => secrets.share(keyHex, 5, 3),
        },
      ],
    });
    const combine32 = await ctx.group({
      name: 'Shamir GF(256) combine, 32-byte secret, 3 shares',
      unit: 'bytes',
      tasks: [
        {
          name: 'shamir.combine',
          role: 'unseen',
          items: 32,
          fn: () => shamir.combine(keyShares.slice(0, 3)),
        },
        {
          name: 'shamir-secret-sharing combine',
          role: 'peer',
          items: 32,
          fn: () => peerCombine(keyPeerShares),
        },
        {
          name: 'secrets.js-grempe combine',
          role: 'peer',
          items: 32,
          fn: () => secrets.combine(keySecretsShares),
        },
      ],
    });
    ctx.metric(
      'split 32 B: shamir-secret-sharing / unseen',
      meanOf(split32, 'peer', 'shamir-secret-sharing split') / meanOf(split32, 'unseen'),
    );
    ctx.metric(
      'split 32 B: secrets.js-grempe / unseen',
      meanOf(split32, 'peer', 'secrets.js-grempe share') / meanOf(split32, 'unseen'),
    );
    ctx.metric(
      'combine 32 B: shamir-secret-sharing / unseen',
      meanOf(combine32, 'peer', 'shamir-secret-sharing combine') / meanOf(combine32, 'unseen'),
    );
    ctx.metric(
      'combine 32 B: secrets.js-grempe / unseen',
      meanOf(combine32, 'peer', 'secrets.js-grempe combine') / meanOf(combine32, 'unseen'),
    );

    // ---- Shamir over GF(256), 1 MiB secret ----
    const MiB = 1024 * 1024;
    const big = randomBytes(MiB);
    const bigShares = shamir.split(big, { shares: 5, threshold: 3 });
    const goal = await ctx.group({
      name: 'Shamir GF(256) split + combine, 1 MiB secret, 3-of-5 (goal: under 50 ms on one core)',
      unit: 'bytes',
      tasks: [
        {
          name: 'shamir.split + shamir.combine',
          role: 'unseen',
          items: MiB,
          fn: () => shamir.combine(shamir.split(big, { shares: 5, threshold: 3 }).slice(2)),
        },
        {
          name: 'shamir.split',
          role: 'unseen',
          items: MiB,
          fn: () => shamir.split(big, { shares: 5, threshold: 3 }),
        },
        {
          name: 'shamir.combine',
          role: 'unseen',
          items: MiB,
          fn: () => shamir.combine(bigShares.slice(0, 3)),
        },
        {
          name: 'crypto.getRandomValues of the 2 MiB of coefficients',
          role: 'baseline',
          items: MiB,
          fn: () => fillRandom(new Uint8Array(2 * MiB)),
        },
      ],
    });
    ctx.metric(
      'split+combine 1 MiB, ms (goal < 50)',
      meanOf(goal, 'unseen', 'shamir.split + shamir.combine'),
    );
    ctx.metric('split 1 MiB, MB/s', MiB / 1e3 / meanOf(goal, 'unseen', 'shamir.split'));
    ctx.metric('combine 1 MiB, MB/s', MiB / 1e3 / meanOf(goal, 'unseen', 'shamir.combine'));

    const slow = { time: 0, iterations: ctx.full ? 3 : 2, warmup: false };
    const bigHex = toHex(big);
    const bigPeerShares = (await peerSplit(big, 5, 3)).slice(0, 3);
    const split1m = await ctx.group({
      name: 'Shamir GF(256) split, 1 MiB secret, 3-of-5, peers',
      description: `Few iterations, no warm-up: the peers take seconds per call.${ctx.full ? '' : ' secrets.js-grempe runs only with --full (about 80 s per split).'}`,
      unit: 'bytes',
      ...slow,
      tasks: [
        {
          name: 'shamir.split',
          role: 'unseen',
          items: MiB,
          fn: () => shamir.split(big, { shares: 5, threshold: 3 }),
        },
        {
          name: 'shamir-secret-sharing split',
          role: 'peer',
          items: MiB,
          fn: () => peerSplit(big, 5, 3),
        },
        ...(ctx.full
          ? [
              {
                name: 'secrets.js-grempe share',
                role: 'peer' as const,
                items: MiB,
                fn: () => secrets.share(bigHex, 5, 3),
              },
            ]
          : []),
      ],
    });
    const bigSecretsShares = ctx.full ? secrets.share(bigHex, 5, 3).slice(0, 3) : [];
    const combine1m = await ctx.group({
      name: 'Shamir GF(256) combine, 1 MiB secret, 3 shares, peers',
      unit: 'bytes',
      ...slow,
      tasks: [
        {
          name: 'shamir.combine',
          role: 'unseen',
          items: MiB,
          fn: () => shamir.combine(bigShares.slice(0, 3)),
        },
        {
          name: 'shamir-secret-sharing combine',
          role: 'peer',
          items: MiB,
          fn: () => peerCombine(bigPeerShares),
        },
        ...(ctx.full
          ? [
              {
                name: 'secrets.js-grempe combine',
                role: 'peer' as const,
                items: MiB,
                fn: () => secrets.combine(bigSecretsShares),
              },
            ]
          : []),
      ],
    });
    ctx.metric(
      'split 1 MiB: shamir-secret-sharing / unseen',
      meanOf(split1m, 'peer', 'shamir-secret-sharing split') /
        meanOf(goal, 'unseen', 'shamir.split'),
    );
    ctx.metric(
      'combine 1 MiB: shamir-secret-sharing / unseen',
      meanOf(combine1m, 'peer', 'shamir-secret-sharing combine') /
        meanOf(goal, 'unseen', 'shamir.combine'),
    );
    if (ctx.full) {
      ctx.metric(
        'split 1 MiB: secrets.js-grempe / unseen',
        meanOf(split1m, 'peer', 'secrets.js-grempe share') / meanOf(goal, 'unseen', 'shamir.split'),
      );
      ctx.metric(
        'combine 1 MiB: secrets.js-grempe / unseen',
        meanOf(combine1m, 'peer', 'secrets.js-grempe combine') /
          meanOf(goal, 'unseen', 'shamir.combine'),
      );
    } else {
      ctx.note(
        'secrets.js-grempe at 1 MiB runs only with --full (about 80 s per split); its 32-byte numbers are above.',
      );
    }
    ctx.note(
      'Peer ratios at 1 MiB divide the peer mean (few samples, no warm-up) by the unseen mean of the warmed, many-sample goal group.',
    );

    // ---- additive sharing ----
    const n = 1_000_000;
    const vector = fillRandom(new Uint32Array(n));
    const add = await ctx.group({
      name: 'additive sharing, 1M-element Uint32Array into 3 shares (goal: over 100 M elements/s)',
      unit: 'elements',
      tasks: [
        {
          name: 'additive.share (getRandomValues)',
          role: 'unseen',
          items: n,
          fn: () => additive.share(vector, { parties: 3 }),
        },
        {
          name: 'additive.shareWithSeeds (AES-CTR Prg)',
          role: 'unseen',
          items: n,
          fn: () => additive.shareWithSeeds(vector, { parties: 3 }),
        },
        {
          name: 'reveal 3 shares',
          role: 'unseen',
          items: n,
          fn: () => additive.reveal(additive.share(vector, { parties: 3 })),
        },
        {
          name: 'crypto.getRandomValues of the 2 random shares (the floor)',
          role: 'baseline',
          items: n,
          fn: () => [fillRandom(new Uint32Array(n)), fillRandom(new Uint32Array(n))],
        },
      ],
    });
    for (const t of add.tasks) ctx.metric(`${t.name}, M elements/s`, (t.itemsPerSec ?? 0) / 1e6);

    // ---- prime-field Shamir ----
    const m = ctx.full ? 1_000_000 : 200_000;
    const fieldVector = randomFieldElements(new Uint32Array(m));
    const fieldShares = fieldShamir.split(fieldVector, { shares: 5, threshold: 3 });
    await ctx.group({
      name: `Shamir over GF(2^31 - 1), ${m.toLocaleString('en')} elements, 3-of-5`,
      unit: 'elements',
      tasks: [
        {
          name: 'fieldShamir.split',
          role: 'unseen',
          items: m,
          fn: () => fieldShamir.split(fieldVector, { shares: 5, threshold: 3 }),
        },
        {
          name: 'fieldShamir.combine (3 shares)',
          role: 'unseen',
          items: m,
          fn: () => fieldShamir.combine(fieldShares.slice(1, 4)),
        },
        {
          name: 'fieldShamir.mulConst',
          role: 'unseen',
          items: m,
          fn: () => fieldShamir.mulConst(fieldShares[0]!, 123_456_789),
        },
      ],
    });

    // ---- Feldman VSS ----
    const secret = 0x1234_5678_9abc_def0n;
    const dealt = feldman.deal(secret, { shares: 5, threshold: 3 });
    await ctx.group({
      name: 'Feldman VSS on ristretto255, 3-of-5',
      tasks: [
        {
          name: 'feldman.deal',
          role: 'unseen',
          fn: () => feldman.deal(secret, { shares: 5, threshold: 3 }),
        },
        {
          name: 'feldman.verifyShare',
          role: 'unseen',
          fn: () => feldman.verifyShare(dealt.shares[2]!, dealt.commitments, 3),
        },
        {
          name: 'feldman.combine with checks',
          role: 'unseen',
          fn: () => feldman.combine(dealt.shares.slice(0, 3), dealt.commitments),
        },
      ],
    });

    // ---- Beaver multiplication in a 3-party session ----
    const len = ctx.full ? 1_000_000 : 100_000;
    const mpc = await mpcFixture(len);
    // An async function, so that tinybench awaits every call (calls never overlap).
    const onAll =
      (f: (s: MpcSession, x: SharedVector, y: SharedVector) => Promise<unknown>) => async () => {
        await Promise.all(mpc.sessions.map((s, p) => f(s, mpc.x[p]!, mpc.y[p]!)));
      };
    const local = encodeFixedPoint(
      Float64Array.from({ length: len }, (_, i) => Math.sin(i) * 100),
      {
        bits: 64,
        fractionalBits: 16,
        clip: 2 ** 15,
      },
    ).data;
    const mpcGroup = await ctx.group({
      name: `MpcSession, 3 parties in memory with a dealer: ${len.toLocaleString('en')}-element products in Z_2^64`,
      description:
        'All three parties and the dealer on one core; includes dealing, seed expansion, messages and checks.',
      unit: 'elements',
      tasks: [
        { name: 'mul (Beaver)', role: 'unseen', items: len, fn: onAll((s, x, y) => s.mul(x, y)) },
        {
          name: 'mulFixed (Beaver + truncation)',
          role: 'unseen',
          items: len,
          fn: onAll((s, x, y) => s.mulFixed(x, y)),
        },
        { name: 'reveal', role: 'unseen', items: len, fn: onAll((s, x) => s.reveal(x)) },
        {
          name: 'plain element-wise product (no privacy)',
          role: 'baseline',
          items: len,
          fn: () => {
            const out = new Float64Array(len);
            for (let i = 0; i < len; i++) out[i] = (local[2 * i]! | 0) * (local[2 * i]! | 0);
            return out;
          },
        },
      ],
    });
    await mpc.close();
    ctx.metric(
      'MPC mulFixed, M elements/s (3 parties on one core)',
      (mpcGroup.tasks[1]?.itemsPerSec ?? 0) / 1e6,
    );
  },
});
