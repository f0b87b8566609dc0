/**
 * The bank risk-matching demo: writes two CSV files, starts bank B (risk list, PSI server) and
 * bank A (customers, PSI client) as two processes connected over TCP on 127.0.0.1, and relays
 * their output. Neither process reads the other's file: bank A learns which of its customers
 * are on the risk list and their risk category; bank B learns only how many IDs bank A checked.
 *
 *   pnpm --filter @unseen/example-bank-risk-matching start [-- --customers 100000 --risky 20000 --shared 1500]
 * @module
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeExampleData } from './data.js';

const here = dirname(fileURLToPath(import.meta.url));

function num(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function start(args: string[], onLine: (line: string) => void): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'bank.ts'), ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  createInterface({ input: child.stdout }).on('line', onLine);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function main(): Promise<void> {
  const customers = num('customers', 50_000);
  const risky = num('risky', 10_000);
  const shared = num('shared', 1_234);
  const dir = await mkdtemp(join(tmpdir(), 'unseen-bank-'));
  const { customersCsv, riskCsv } = await writeExampleData(dir, { customers, risky, shared });
  console.log(
    `wrote ${customersCsv} (${customers} IDs) and ${riskCsv} (${risky} IDs, ${shared} shared)`,
  );
  let clientExit: Promise<number> | undefined;
  const serverExit = start(
    ['risk-holder', '--csv', riskCsv, '--max-client', String(customers)],
    (line) => {
      console.log(line);
      const m = /^listening (\d+)$/.exec(line);
      if (m)
        clientExit = start(['customer-bank', '--csv', customersCsv, '--port', m[1]!], (l) =>
          console.log(l),
        );
    },
  );
  const codes = [await serverExit, await (clientExit ?? Promise.resolve(1))];
  if (codes.some((c) => c !== 0)) {
    console.error(`a bank process failed (exit codes ${codes.join(', ')})`);
    process.exit(1);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
