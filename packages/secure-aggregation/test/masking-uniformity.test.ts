/**
 * A single masked input is indistinguishable from uniform: the server sees y_u = x_u + PRG(b_u) +
 * sum_v p_{u,v}, and without b_u the self mask alone makes y_u uniform whatever x_u is. The test
 * takes real masked inputs of structured inputs (all zeros, a ramp, a constant) from the protocol
 * and applies chi-square tests to their bytes, byte pairs and bit balance, with thresholds a
 * uniform source exceeds with probability below 1e-9. A negative control shows each test does
 * detect a slightly biased mask.
 */
import { fillRandom } from '@unseen/core';
import { describe, expect, it } from 'vitest';
import { decodeMaskedInput, MSG, open } from '../src/wire.js';
import { Harness } from './helpers.js';

const LENGTH = 1 << 16;

/** Chi-square statistic of byte frequencies (255 degrees of freedom). */
function chiBytes(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]! += 1;
  const e = bytes.length / 256;
  let chi = 0;
  for (const c of counts) chi += ((c - e) * (c - e)) / e;
  return chi;
}

/** Chi-square of consecutive pairs of high nibbles of words (255 degrees of freedom). */
function chiPairs(words: Uint32Array): number {
  const counts = new Float64Array(256);
  for (let i = 0; i + 1 < words.length; i += 2)
    counts[((words[i]! >>> 28) << 4) | (words[i + 1]! >>> 28)]! += 1;
  const e = Math.floor(words.length / 2) / 256;
  let chi = 0;
  for (const c of counts) chi += ((c - e) * (c - e)) / e;
  return chi;
}

/** Largest deviation, in standard deviations, of the count of ones at any of the 32 bit positions. */
function bitBias(words: Uint32Array): number {
  let worst = 0;
  for (let b = 0; b < 32; b++) {
    let ones = 0;
    for (const w of words) ones += (w >>> b) & 1;
    worst = Math.max(worst, Math.abs(ones - words.length / 2) / (Math.sqrt(words.length) / 2));
  }
  return worst;
}

// df = 255: P(chi^2 > 420) < 1e-9; a normal deviation above 6.5 sd: P < 1e-10 per position.
const CHI_LIMIT = 420;
const SD_LIMIT = 6.5;

function looksUniform(words: Uint32Array): { chiBytes: number; chiPairs: number; bias: number } {
  return {
    chiBytes: chiBytes(new Uint8Array(words.buffer, words.byteOffset, words.byteLength)),
    chiPairs: chiPairs(words),
    bias: bitBias(words),
  };
}

function expectUniform(words: Uint32Array): void {
  const s = looksUniform(words);
  expect(s.chiBytes).toBeLessThan(CHI_LIMIT);
  expect(s.chiPairs).toBeLessThan(CHI_LIMIT);
  expect(s.bias).toBeLessThan(SD_LIMIT);
}

/** Client 0's masked input, taken off the wire, for a given input. */
async function maskedInputOf(input: Uint32Array): Promise<Uint32Array> {
  const others = [fillRandom(new Uint32Array(LENGTH)), fillRandom(new Uint32Array(LENGTH))];
  const h = await Harness.create({ clients: 3, length: LENGTH, inputs: [input, ...others] });
  await h.round();
  await h.round();
  await h.deliver();
  const message = h.replies.get(0)!;
  return decodeMaskedInput(
    open(message, MSG.maskedInput, h.server.session, 2 ** 24).body,
    h.server.params,
  ).data;
}

describe('a single masked input is indistinguishable from uniform', () => {
  const inputs: Record<string, Uint32Array> = {
    zeros: new Uint32Array(LENGTH),
    ramp: Uint32Array.from({ length: LENGTH }, (_, i) => i),
    constant: new Uint32Array(LENGTH).fill(0xdeadbeef),
  };
  for (const [name, input] of Object.entries(inputs)) {
    it(`input = ${name}: bytes, byte pairs and every bit position look uniform`, async () => {
      expect(looksUniform(input).chiBytes).toBeGreaterThan(CHI_LIMIT); // the input itself is not
      expectUniform(await maskedInputOf(input));
    });
  }

  it('negative control: each statistic flags a mask with a small bias', () => {
    const uniform = fillRandom(new Uint32Array(LENGTH));
    expectUniform(uniform);
    // One bit position set a little more often than not (55%): caught by the bit balance.
    const biased = uniform.slice();
    const coin = fillRandom(new Uint8Array(LENGTH));
    for (let i = 0; i < LENGTH; i++) if (coin[i]! < 26) biased[i]! |= 1 << 17;
    expect(bitBias(biased)).toBeGreaterThan(SD_LIMIT);
    // Bytes from a 255-value alphabet (one value never appears): caught by the byte counts.
    const skewed = uniform.slice();
    const view = new Uint8Array(skewed.buffer);
    for (let i = 0; i < view.length; i++) if (view[i] === 0) view[i] = 1;
    expect(chiBytes(view)).toBeGreaterThan(CHI_LIMIT);
    // Consecutive words correlated in their top nibble: caught by the pairs.
    const paired = uniform.slice();
    for (let i = 0; i + 1 < LENGTH; i += 2)
      if (coin[i]! < 64) paired[i + 1] = (paired[i + 1]! & 0x0fffffff) | (paired[i]! & 0xf0000000);
    expect(chiPairs(paired)).toBeGreaterThan(CHI_LIMIT);
  });
});
