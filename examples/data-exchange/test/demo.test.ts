/**
 * Runs `pnpm demo` from the repository root, as the README tells a newcomer to, and checks what
 * it prints: the PSI count exact, the noisy aggregates near the truth, the federated model
 * better than chance, the denial with its reason, the verified ledger and the metering.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

function runDemo(): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn('pnpm', ['demo'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.on('exit', (code) => done({ code, out, err }));
  });
}

describe('pnpm demo', () => {
  it('runs an exchange, two providers and a consumer to the end and prints what each step did', async () => {
    const { code, out, err } = await runDemo();
    expect(code, `stderr: ${err}\nstdout: ${out}`).toBe(0);
    const match = (re: RegExp) => {
      const m = re.exec(out);
      expect(m, `missing ${re} in:\n${out}`).not.toBeNull();
      return m!;
    };
    // Separate processes, progress from each party.
    match(/\[exchange\] listening on http:\/\/127\.0\.0\.1:\d+/);
    match(/\[bank\] +serving risk-list, loans-bank/);
    match(/\[insurer\] +serving loans-insurer/);
    match(/\[bank\] +job [0-9a-f]{8}: training round 3\/3 locally/);
    // PSI cardinality is exact.
    const psi = match(/customers on the risk list +(\d+) +exact (\d+)/);
    expect(psi[1]).toBe(psi[2]);
    // Noisy aggregates near the truth (bounds of 15 noise scales).
    const mean = match(/mean income over both loan books +([0-9.]+) +exact ([0-9.]+)/);
    expect(Math.abs(Number(mean[1]) - Number(mean[2]))).toBeLessThan(600);
    const count = match(/loans in both books +(-?\d+) +exact (\d+)/);
    expect(Math.abs(Number(count[1]) - Number(count[2]))).toBeLessThan(60);
    // Federated training: three rounds metered, a useful model.
    for (const r of [1, 2, 3]) match(new RegExp(`round ${r}: 2 providers, [0-9.]+ KiB`));
    const acc = match(/federated model accuracy +([0-9.]+)%/);
    expect(Number(acc[1])).toBeGreaterThan(65);
    match(/RDP epsilon [0-9.]+ at the policy's delta 0\.00001/);
    // The denial, with its reason, before any provider is involved.
    match(
      /denied before any provider saw the request: ERR_POLICY_DENIED \(computation-not-allowed\)/,
    );
    // Ledger and metering.
    match(/#4 federated\.train +finished shop on loans-bank\+loans-insurer/);
    match(/verified: 4 entries, hash chain and every signature OK/);
    match(/unseen ledger verify --db exchange\.db: ledger OK: 4 entries/);
    match(/shop: 4 jobs \(4 finished, 0 failed\), 1 denied/);
    const took = match(/demo finished in ([0-9.]+) s/);
    expect(Number(took[1])).toBeLessThan(60);
    expect(out).not.toMatch(/error/i);
  }, 150_000);
});
