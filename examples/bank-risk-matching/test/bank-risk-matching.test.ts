/**
 * Runs the demo as a user would: two bank processes over a real TCP socket, and checks the
 * printed results against the known overlap of the generated CSV files.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from '../../../test/utils/processes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('bank risk matching (two processes over TCP)', () => {
  it('bank A finds exactly the shared IDs; both report bytes sent', async () => {
    const { code, output: out } = await runScript(
      join(root, 'src/main.ts'),
      ['--customers', '3000', '--risky', '1500', '--shared', '321'],
      { cwd: root, timeoutMs: 230_000 },
    );
    expect(code, out).toBe(0);
    const results = out
      .split('\n')
      .filter((l) => l.startsWith('RESULT '))
      .map((l) => JSON.parse(l.slice(7)) as Record<string, unknown>);
    const a = results.find((r) => r.role === 'bank-a')!;
    const b = results.find((r) => r.role === 'bank-b')!;
    expect(a.matched).toBe(321);
    expect(Object.values(a.byRisk as Record<string, number>).reduce((x, y) => x + y, 0)).toBe(321);
    expect(b.clientItems).toBe(3000);
    expect(a.bytesSent).toBeGreaterThan(3000 * 32);
    expect(b.bytesSent).toBe(a.bytesReceived);
    expect(out).toMatch(/\[bank-a\] request 100%/);
  }, 240_000);
});
