/**
 * Runs the example as a user would (analyst, aggregator and ten hospitals as processes on
 * 127.0.0.1) and checks the decrypted totals against the plain computation it prints.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(root, 'src/main.ts'), ...args],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill(), 280_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
  });
}

interface Row {
  group: string;
  count: number;
  mean: number;
  sd: number;
}

describe('hospital statistics (ten hospitals, an aggregator and an analyst as processes)', () => {
  it('the analyst decrypts totals equal to the plain computation; early requests are refused', async () => {
    const { code, out } = await run([]);
    expect(code, out).toBe(0);
    const line = out.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, out).toBeDefined();
    const result = JSON.parse(line!.slice(7)) as {
      hospitals: number;
      encrypted: Row[];
      plain: Row[];
      countsExact: boolean;
    };
    expect(result.hospitals).toBe(10);
    expect(result.countsExact).toBe(true);
    expect(result.encrypted).toHaveLength(6);
    result.encrypted.forEach((e, k) => {
      const p = result.plain[k]!;
      expect(e.count).toBe(p.count);
      expect(Math.abs(e.mean - p.mean)).toBeLessThan(1e-6);
      expect(Math.abs(e.sd - p.sd)).toBeLessThan(1e-4);
    });
    expect(out).toMatch(/asked before the hospitals sent: ERR_POLICY_DENIED/);
    expect(out.match(/\[hospital \d+\] \d+ patients; sent \d+ encrypted bytes/g)).toHaveLength(10);
    expect(out).toMatch(/released the sums of 10 hospitals/);
  }, 300_000);
});
