/** Runs the example on a small slice of MNIST: every configuration, a plot and the logs. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { loadMnist } from '../src/mnist.js';

describe('federated MNIST example', () => {
  it('reads the 10,000 digits of the mnist package deterministically', () => {
    const a = loadMnist();
    expect(a.count).toBeGreaterThan(9900);
    expect(a.features).toBe(784);
    expect(new Set(a.y).size).toBe(10);
    const b = loadMnist();
    expect(Buffer.from(b.x.buffer).equals(Buffer.from(a.x.buffer))).toBe(true);
    expect(Buffer.from(b.y.buffer).equals(Buffer.from(a.y.buffer))).toBe(true);
  });

  it('runs plain, secure, DP, homomorphic and non-IID on a slice and writes the plot', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fedmnist-'));
    try {
      const lines: string[] = [];
      const r = await main({
        quick: true,
        nonIid: true,
        homomorphic: true,
        out,
        print: (l) => lines.push(l),
      });
      expect(r.runs.map((x) => x.name)).toHaveLength(6);
      // BFV aggregation sums the same fixed-point encoding exactly: the same model as secure.
      expect(r.runs[3]!.name).toBe('homomorphic');
      expect(r.runs[3]!.finalAccuracy).toBe(r.runs[1]!.finalAccuracy);
      // plain and secure train the same model up to fixed-point error
      expect(Math.abs(r.runs[0]!.finalAccuracy - r.runs[1]!.finalAccuracy)).toBeLessThanOrEqual(
        0.005,
      );
      expect(r.runs[0]!.finalAccuracy).toBeGreaterThan(0.6);
      expect(r.runs[2]!.epsilon).toBeGreaterThan(0);
      expect(existsSync(r.svgPath)).toBe(true);
      expect(readFileSync(r.svgPath, 'utf8')).toContain('<polyline');
      expect(lines.join('\n')).toMatch(/epsilon \d+\.\d\d at delta 1e-5/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
