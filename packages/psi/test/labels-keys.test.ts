/**
 * labels mode keys (audit M1) and what a malicious server can learn from label errors.
 *
 * - A server restarted from its exported secret (same key k, same setup id) that seals new labels
 *   uses fresh label keys: the setup carries a random salt drawn at every build, so no AES-GCM key
 *   and nonce ever seal two plaintexts, and XOR-ing two setups' ciphertexts reveals nothing.
 * - Known answers: the label key equals HKDF-SHA256 computed by @noble/hashes (core's `hkdf`),
 *   and a sealed label opens with WebCrypto's AES-GCM, independently of node:crypto.
 * - A label that authenticates but is malformed (only the server can make one) fails the client
 *   that holds the item, and runPsiClient does not report that error to the server: the server
 *   sees the same silence whether or not the client holds the item.
 */
import { concatBytes, hkdf, isUnseenError, memoryChannelPair, utf8ToBytes } from '@unseen/core';
import { describe, expect, it } from 'vitest';
import { buildGcs } from '../src/filter.js';
import { ELEMENT_BYTES, hashToGroup, prfTags } from '../src/group.js';
import { PsiClient, PsiServer, runPsiClient } from '../src/index.js';
import { pack } from '../src/items.js';
import { frameLabel, GCM_TAG, LABEL_FRAME, labelKey, sealLabels } from '../src/labels.js';
import { decodeSetup, encodeSetup } from '../src/setup.js';
import { testPool } from './helpers.js';

const pool = testPool(2);
const ITEMS = ['DE0001', 'DE0002', 'DE0003'];
const enc = new TextEncoder();

/** The server's key from its exported secret: version, suite, setup id (16 B), key (32 B). */
function serverKey(server: PsiServer): Uint8Array {
  return server.exportSecret().subarray(18, 50);
}

/** What a client of `server` holding `items` learns from `setup`: item -> label. */
async function labelsOf(
  server: PsiServer,
  setup: Uint8Array,
  items: string[],
): Promise<Record<string, string>> {
  const client = await PsiClient.create({ items, mode: 'labels', pool });
  const { intersection, labels } = await client.finish(
    setup,
    await server.respond(await client.request()),
  );
  return Object.fromEntries(intersection.map((x, i) => [x, labels[i] as string]));
}

/** A labels server over ITEMS, fresh or restarted from `secret`. */
function labelsServer(labels: string[], secret?: Uint8Array): Promise<PsiServer<'labels'>> {
  return PsiServer.create({
    items: ITEMS,
    mode: 'labels',
    labels,
    labelBytes: 16,
    pool,
    ...(secret === undefined ? {} : { secret }),
  });
}

describe('label keys', () => {
  it('a restarted server sealing new labels reuses no key and nonce', async () => {
    const s1 = await labelsServer(['ok', 'ok', 'ok']);
    const setup1 = await s1.setup();
    const s2 = await labelsServer(['ok', 'fraud-ring', 'ok'], s1.exportSecret());
    const setup2 = await s2.setup();
    const d1 = decodeSetup(setup1);
    const d2 = decodeSetup(setup2);
    expect(d1.setupId).toEqual(d2.setupId); // same setup id and key: the restart case
    expect(d1.labelSalt).not.toEqual(d2.labelSalt);
    // The audit's attack: XOR the two ciphertexts and the known old frame. With one key and
    // nonce it printed the new label; now it yields noise for every entry.
    const frame = d1.labelFrameBytes!;
    const stride = frame + GCM_TAG;
    const oldFrame = frameLabel('ok', 16);
    for (let pos = 0; pos < ITEMS.length; pos++) {
      const a = d1.sealedLabels!.subarray(pos * stride, pos * stride + frame);
      const b = d2.sealedLabels!.subarray(pos * stride, pos * stride + frame);
      const guess = a.map((v, i) => v ^ b[i]! ^ oldFrame[i]!);
      expect(guess).not.toEqual(frameLabel('fraud-ring', 16));
      expect(guess).not.toEqual(oldFrame);
    }
    // a second restart with the very same labels still seals under new keys
    const s3 = await labelsServer(['ok', 'ok', 'ok'], s1.exportSecret());
    expect(decodeSetup(await s3.setup()).sealedLabels).not.toEqual(d1.sealedLabels);
    // both setups still work for a client of their server
    expect(await labelsOf(s1, setup1, ['DE0002', 'XX'])).toEqual({ DE0002: 'ok' });
    expect(await labelsOf(s2, setup2, ['DE0002', 'XX'])).toEqual({ DE0002: 'fraud-ring' });
    // and the salt binds: a setup with another salt opens nothing
    const swapped = { ...d2, labelSalt: d1.labelSalt! };
    expect(await labelsOf(s2, encodeSetup(swapped), ['DE0002'])).toEqual({});
  }, 120_000);

  it('key = HKDF-SHA256(F(x), salt, "unseen-psi-v1-label" || setup id || x); opens with WebCrypto', async () => {
    const element = crypto.getRandomValues(new Uint8Array(32));
    const salt = crypto.getRandomValues(new Uint8Array(32));
    const setupId = crypto.getRandomValues(new Uint8Array(16));
    const item = utf8ToBytes('DE0002');
    const key = await labelKey(element, salt, setupId, item);
    const info = concatBytes(utf8ToBytes('unseen-psi-v1-label'), setupId, item);
    expect(key).toEqual(hkdf(element, salt, info, 32));
    const plain = frameLabel('fraud-ring', 20);
    const { data, offsets } = pack([item]);
    const sealed = await sealLabels(element, data, offsets, plain, plain.length, setupId, salt);
    const k = await crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, ['decrypt']);
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: new Uint8Array(12) },
      k,
      sealed.slice(),
    );
    expect(new Uint8Array(opened)).toEqual(plain);
  });

  it('a malformed but authentic label fails only its holder, and the server hears nothing', async () => {
    const server = await PsiServer.create({
      items: ITEMS,
      mode: 'labels',
      labels: ['a', 'b', 'c'],
      pool,
    });
    const s = decodeSetup(await server.setup());
    // The malicious server re-seals every label with a frame of unknown kind 9.
    const bytes = ITEMS.map((x) => enc.encode(x));
    const { data, offsets } = pack(bytes);
    const elements = await hashToGroup('x25519', data, offsets, serverKey(server));
    const { order } = buildGcs(prfTags('x25519', elements), ITEMS.length, s.gcsRange!);
    const sorted = Array.from(order, (i) => bytes[i]!);
    const sortedElements = new Uint8Array(ITEMS.length * ELEMENT_BYTES);
    order.forEach((i, j) => {
      sortedElements.set(
        elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES),
        j * ELEMENT_BYTES,
      );
    });
    const frame = s.labelFrameBytes!;
    expect(frame).toBe(LABEL_FRAME + 1);
    const plains = new Uint8Array(ITEMS.length * frame);
    for (let j = 0; j < ITEMS.length; j++) plains[j * frame] = 9;
    const packed = pack(sorted);
    s.sealedLabels = await sealLabels(
      sortedElements,
      packed.data,
      packed.offsets,
      plains,
      frame,
      s.setupId,
      s.labelSalt!,
    );
    const evil = encodeSetup(s);

    async function observe(items: string[]): Promise<{ client: string; server: string }> {
      const [a, b] = memoryChannelPair();
      const served = (async () => {
        await a.send(evil);
        await a.send(await server.respond(await a.receive({ timeoutMs: 30_000 })));
        try {
          const m = await a.receive({ timeoutMs: 300 });
          return `message type ${m[1]}`;
        } catch (e) {
          return isUnseenError(e) ? e.code : 'other';
        }
      })();
      let client = 'none';
      try {
        await runPsiClient(b, { items, mode: 'labels', pool });
      } catch (e) {
        client = isUnseenError(e) ? e.code : 'other';
      }
      return { client, server: await served };
    }
    expect(await observe(['DE0002', 'ZZ'])).toEqual({
      client: 'ERR_MALFORMED_MESSAGE',
      server: 'ERR_TIMEOUT',
    });
    expect(await observe(['YY', 'ZZ'])).toEqual({ client: 'none', server: 'ERR_TIMEOUT' });
  }, 120_000);
});
