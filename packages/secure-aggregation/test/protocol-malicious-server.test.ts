import { equalBytes, x25519PublicKey } from '@unseen/core';
import { shamir } from '@unseen/secret-sharing';
import { describe, expect, it } from 'vitest';
import { selfMaskCommitment } from '../src/derive.js';
import {
  bit,
  decodeAdvertise,
  decodeShareKeys,
  decodeUnmask,
  decodeUnmaskRequest,
  encodeUnmaskRequest,
  envelope,
  MSG,
  makeBitmap,
  open,
  SHARE_KIND,
} from '../src/wire.js';
import { codeOf, Harness } from './helpers.js';

/** What clients sent in the first two rounds, by client. */
let advertised = new Map<number, Uint8Array>();
let sharedKeys = new Map<number, Uint8Array>();

/** Runs a 5-client round (t = 3) up to the unmasking requests; client 4 dropped before its input. */
async function atUnmasking(active = false): Promise<Harness> {
  const h = await Harness.create({
    clients: 5,
    length: 6,
    ...(active ? { active: true, threshold: 4 } : {}),
  });
  await h.round(); // AdvertiseKeys
  advertised = h.replies;
  await h.round(); // ShareKeys
  sharedKeys = h.replies;
  const step = await h.round([4]); // MaskedInputCollection: 4 drops
  expect(step.round).toBe(active ? 'consistencyCheck' : 'unmask');
  if (active) await h.round(); // ConsistencyCheck
  return h;
}

/** The server's unmasking request to client u, re-encoded with other bitmaps. */
function forged(h: Harness, u: number, selfMask: number[], maskKey: number[]): Uint8Array {
  const params = h.server.params;
  const original = decodeUnmaskRequest(
    open(h.outgoing.get(u)!, MSG.unmaskRequest, h.server.session, 2 ** 24).body,
    params,
  );
  const g = Array.from(h.server.graph.group(u));
  const body = encodeUnmaskRequest(
    {
      ...original,
      selfMask: makeBitmap(g.length, (p) => selfMask.includes(g[p]!)),
      maskKey: makeBitmap(g.length, (p) => maskKey.includes(g[p]!)),
    },
    params.active,
  );
  return envelope(MSG.unmaskRequest, h.server.session, body);
}

describe('honest clients refuse a malicious server', () => {
  it('asked for both the self-mask seed and the mask key of one client: refused', async () => {
    const h = await atUnmasking();
    // Client 4 dropped: the honest request asks client 0 for 4's mask key only.
    const both = forged(h, 0, [0, 1, 2, 3, 4], [4]);
    const err = await h.clients[0]!.handle(both).catch((e) => e);
    expect(err.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(err.details.client).toBe(4);
    expect(h.clients[0]!.stage).toBe('aborted');
    // Refused for good: not even the honest request is answered now.
    expect(await codeOf(() => h.clients[0]!.handle(h.outgoing.get(0)!))).toBe('ERR_INVALID_STATE');
  });

  it('asked for the mask key of a client that is alive (itself or a peer): refused', async () => {
    const h = await atUnmasking();
    const own = await h.clients[1]!.handle(forged(h, 1, [0, 2, 3], [1, 4])).catch((e) => e);
    expect(own.code).toBe('ERR_PROTOCOL_ABORTED');
    // Asking for 2's mask key while 2 is listed alive is "both" again.
    const peer = await h.clients[3]!.handle(forged(h, 3, [0, 1, 2, 3], [2, 4])).catch((e) => e);
    expect(peer.code).toBe('ERR_PROTOCOL_ABORTED');
  });

  it('a request that omits or invents clients, or leaves fewer than t alive, is refused', async () => {
    const h = await atUnmasking();
    expect(await codeOf(() => h.clients[0]!.handle(forged(h, 0, [0, 1, 2, 3], [])))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    const h2 = await atUnmasking();
    expect(await codeOf(() => h2.clients[0]!.handle(forged(h2, 0, [0, 1], [2, 3, 4])))).toBe(
      'ERR_INSUFFICIENT_SHARES',
    );
  });

  it('a server that tells different holders different stories gets fewer than t shares of each secret', async () => {
    const h = await atUnmasking();
    // Client 4 dropped. Tell 0 and 1 that 4 survived (asking for b_4), tell 2 and 3 it dropped
    // (asking for s_4^SK): the server now tries to learn both secrets of client 4.
    const seedShares: Uint8Array[] = [];
    const keyShares: Uint8Array[] = [];
    for (const u of [0, 1, 2, 3]) {
      const story = u < 2 ? forged(h, u, [0, 1, 2, 3, 4], []) : forged(h, u, [0, 1, 2, 3], [4]);
      let reply: Uint8Array | undefined;
      try {
        reply = await h.clients[u]!.handle(story);
      } catch {
        continue; // refused
      }
      const body = decodeUnmask(
        open(reply!, MSG.unmask, h.server.session, 2 ** 24).body,
        h.server.params,
      );
      for (const e of body.entries) {
        if (e.owner !== 4) continue;
        (e.kind === SHARE_KIND.selfMaskSeed ? seedShares : keyShares).push(e.share);
      }
    }
    // Each story is consistent on its own, so every holder answers, but t = 3 > 2 shares.
    expect(seedShares.length).toBe(2);
    expect(keyShares.length).toBe(2);
    // Two shares of a threshold-3 secret interpolate to an unrelated value: neither the mask key
    // (its public key differs from the advertised one) nor the seed (its commitment differs).
    const params = h.server.params;
    const adv = decodeAdvertise(
      open(advertised.get(4)!, MSG.advertise, h.server.session, 2 ** 24).body,
      params,
    );
    const sk = decodeShareKeys(
      open(sharedKeys.get(4)!, MSG.shareKeys, h.server.session, 2 ** 24).body,
      params,
    );
    expect(equalBytes(await x25519PublicKey(shamir.combine(keyShares)), adv.sPK)).toBe(false);
    const b = shamir.combine(seedShares);
    expect(equalBytes(selfMaskCommitment(b, h.server.session, 4), sk.commitment)).toBe(false);
  });

  it('active variant: a request contradicting the signed survivors, or with a forged view, is refused', async () => {
    const h = await atUnmasking(true);
    // The request must repeat the survivors the client signed.
    const contradict = await h.clients[0]!.handle(forged(h, 0, [0, 1, 2], [3, 4])).catch((e) => e);
    expect(contradict.code).toBe('ERR_PROTOCOL_ABORTED');

    const params = h.server.params;
    const original = decodeUnmaskRequest(
      open(h.outgoing.get(1)!, MSG.unmaskRequest, h.server.session, 2 ** 24).body,
      params,
    );
    // A signature that does not verify.
    const badSig = {
      ...original,
      signatures: original.signatures.map((v) =>
        v.signer === 2 ? { ...v, signature: v.signature.map((b, j) => (j === 0 ? b ^ 1 : b)) } : v,
      ),
    };
    expect(
      await codeOf(() =>
        h.clients[1]!.handle(
          envelope(MSG.unmaskRequest, h.server.session, encodeUnmaskRequest(badSig, true)),
        ),
      ),
    ).toBe('ERR_INTEGRITY');

    // Too few signatures: the client cannot be sure t holders share its view.
    const original2 = decodeUnmaskRequest(
      open(h.outgoing.get(2)!, MSG.unmaskRequest, h.server.session, 2 ** 24).body,
      params,
    );
    const few = { ...original2, signatures: original2.signatures.slice(0, 1) };
    expect(
      await codeOf(() =>
        h.clients[2]!.handle(
          envelope(MSG.unmaskRequest, h.server.session, encodeUnmaskRequest(few, true)),
        ),
      ),
    ).toBe('ERR_INSUFFICIENT_SHARES');

    // The honest request still works for the others.
    const reply = await h.clients[3]!.handle(h.outgoing.get(3)!);
    expect(reply).toBeInstanceOf(Uint8Array);
    expect(bit(original.selfMask, 0)).toBe(true);
  });
});
