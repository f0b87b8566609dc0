import { defaultThreshold, minimumParameters, secAggParams } from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

describe('parameters', () => {
  it('defaults: the full graph, 32 bits, the smallest threshold above half the group', () => {
    expect(secAggParams({ clients: 10, length: 5 })).toEqual({
      clients: 10,
      threshold: 6,
      neighbours: 9,
      bits: 32,
      length: 5,
      active: false,
    });
    expect(secAggParams({ clients: 100, neighbours: 22, length: 1 }).threshold).toBe(12);
    expect(secAggParams({ clients: 10, length: 5, active: true }).threshold).toBe(7);
    expect(defaultThreshold(15)).toBe(8);
    expect(defaultThreshold(15, true)).toBe(11);
  });

  it('threshold must exceed half of the neighbourhood and not exceed it', async () => {
    expect(await codeOf(() => secAggParams({ clients: 10, length: 1, threshold: 5 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => secAggParams({ clients: 10, length: 1, threshold: 11 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(
      await codeOf(() =>
        secAggParams({
          clients: 100,
          neighbours: 14,
          length: 1,
          threshold: 7,
          allowUnsafeParameters: true,
        }),
      ),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(secAggParams({ clients: 100, neighbours: 22, length: 1, threshold: 23 }).threshold).toBe(
      23,
    );
    expect(secAggParams({ clients: 10, length: 1, threshold: 10 }).threshold).toBe(10);
  });

  it('refuses impossible graphs, oversize groups and bad values', async () => {
    expect(await codeOf(() => secAggParams({ clients: 9, neighbours: 3, length: 1 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    // Above 255 clients the full graph does not exist: the default is the analysis' choice.
    const chosen = minimumParameters({ clients: 300 });
    expect(secAggParams({ clients: 300, length: 1 })).toMatchObject({
      neighbours: chosen.neighbours,
      threshold: chosen.threshold,
    });
    expect(await codeOf(() => secAggParams({ clients: 300, neighbours: 255, length: 1 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(secAggParams({ clients: 300, neighbours: 254, length: 1 }).neighbours).toBe(254);
    expect(await codeOf(() => secAggParams({ clients: 1, length: 1 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => secAggParams({ clients: 10, length: 0 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => secAggParams({ clients: 10, length: 1, bits: 16 as 32 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => secAggParams({ clients: 10, length: 1.5 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(
      await codeOf(() => secAggParams({ clients: 10, length: 1, active: 1 as unknown as boolean })),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => secAggParams(null as never))).toBe('ERR_INVALID_ARGUMENT');
  });
});
