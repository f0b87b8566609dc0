/**
 * Runs the example as a user would (analyst, aggregator and ten hospitals as processes on
 * 127.0.0.1) and checks the decrypted totals against the plain computation it prints.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from '../../../test/utils/processes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Row {
  group: string;
  count: number;
  mean: number;
  sd: number;
}

describe('hospital statistics (ten hospitals, an aggregator and an analyst as processes)', () => {
  it('the analyst sums signed contributions itself and decrypts totals within the stated bound; early requests and resends are refused', async () => {
    const { code, output: out } = await runScript(join(root, 'src/main.ts'), [], {
      cwd: root,
      timeoutMs: 280_000,
    });
    expect(code, out).toBe(0);
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, out).toBeDefined();
    const result = JSON.parse(line!.slice(7)) as {
      hospitals: number;
      encrypted: Row[];
      plain: Row[];
      bounds: { mean: number; sd: number }[];
      errorBound: number;
      countsExact: boolean;
    };
    expect(result.hospitals).toBe(10);
    expect(result.countsExact).toBe(true);
    expect(result.encrypted).toHaveLength(6);
    result.encrypted.forEach((e, k) => {
      const p = result.plain[k]!;
      expect(e.count).toBe(p.count);
      // Within what the CKKS error bound of the sums implies (plus double rounding).
      expect(Math.abs(e.mean - p.mean)).toBeLessThanOrEqual(result.bounds[k]!.mean + 1e-9);
      expect(Math.abs(e.sd - p.sd)).toBeLessThanOrEqual(result.bounds[k]!.sd + 1e-9);
      expect(result.bounds[k]!.mean).toBeLessThan(1e-2);
    });
    expect(result.errorBound).toBeLessThanOrEqual(1);
    expect(out).toMatch(/asked before the hospitals sent: ERR_POLICY_DENIED/);
    expect(
      out.match(
        /\[hospital \d+\] \d+ patients; sent \d+ signed encrypted bytes \(a resend: ERR_REPLAY\)/g,
      ),
    ).toHaveLength(10);
    expect(out).toMatch(/released the contributions of 10 hospitals/);
    expect(out).toMatch(/summed 10 \+ 10 signed contributions of registered hospitals/);
    expect(out).toMatch(/a second round of the same context: ERR_REPLAY/);
  }, 300_000);
});
