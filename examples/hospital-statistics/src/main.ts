/**
 * Hospital statistics: ten hospitals, one aggregator, one analyst, as separate processes on
 * 127.0.0.1. The analyst creates the keys (BFV for exact counts, CKKS for the sums and sums of
 * squares of systolic blood pressure per age group) and publishes the public parameters; each
 * hospital encrypts its local statistics and sends them to the aggregator, which adds them
 * without any key; the analyst asks for the totals and decrypts them. Printed beside the same
 * statistics computed in the clear over all records, which no party in a deployment could do.
 *
 *   node --conditions=source --import tsx src/main.ts [--hospitals 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKeyHolder } from '@unseen/homomorphic';
import { AGE_GROUPS, localStatistics, patientsOf, pooled } from './data.js';
import { fetchSums, runAggregator, runHospital } from './roles.js';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const self = fileURLToPath(import.meta.url);

function child(roleArgs: string[], onLine: (line: string) => void = (l) => console.log(l)) {
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', self, ...roleArgs],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let buffer = '';
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  });
  const done = new Promise<number>((resolve) => proc.on('exit', (code) => resolve(code ?? 1)));
  return { proc, done };
}

async function analyst(): Promise<void> {
  const hospitals = Number(arg('hospitals') ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'unseen-hospitals-'));
  const g = AGE_GROUPS.length;
  // Up to 20,000 patients per hospital: counts below 2^15; sums of squares below 20,000 * 300^2.
  const counts = await createKeyHolder({
    scheme: 'bfv',
    length: g,
    maxContributions: hospitals,
    valueBound: 1 << 15,
    minContributions: hospitals,
  });
  const sums = await createKeyHolder({
    scheme: 'ckks',
    length: 2 * g,
    maxContributions: hospitals,
    valueBound: 2e9,
    precision: 1e-2,
    minContributions: hospitals,
  });
  console.log(
    `[analyst] keys: BFV N=${counts.info.polyModulusDegree} (exact counts), CKKS N=${sums.info.polyModulusDegree} (sums within ${sums.info.errorBound.toExponential(1)})`,
  );
  writeFileSync(join(dir, 'bfv.params'), counts.publicParams);
  writeFileSync(join(dir, 'ckks.params'), sums.publicParams);

  let port = 0;
  let listening: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    listening = resolve;
  });
  const aggregator = child(
    ['--role', 'aggregator', '--dir', dir, '--min', String(hospitals)],
    (line) => {
      if (line.startsWith('listening ')) {
        port = Number(line.slice(10));
        listening();
      } else console.log(line);
    },
  );
  const timer = setTimeout(() => aggregator.proc.kill(), 60_000);
  await Promise.race([
    ready,
    aggregator.done.then((c) => Promise.reject(new Error(`aggregator exited ${c}`))),
  ]);
  clearTimeout(timer);

  let got: Awaited<ReturnType<typeof fetchSums>>;
  try {
    // Asking early is refused: fewer than `hospitals` contributions.
    const early = await fetchSums(port);
    if ('error' in early) console.log(`[analyst] asked before the hospitals sent: ${early.error}`);
    const codes = await Promise.all(
      Array.from(
        { length: hospitals },
        (_, i) =>
          child(['--role', 'hospital', '--index', String(i), '--port', String(port), '--dir', dir])
            .done,
      ),
    );
    if (codes.some((c) => c !== 0))
      throw new Error(`a hospital failed: exit codes ${codes.join(',')}`);
    got = await fetchSums(port);
  } finally {
    aggregator.proc.kill();
    await aggregator.done;
    rmSync(dir, { recursive: true, force: true });
  }
  if ('error' in got) throw new Error(`aggregator refused: ${got.error}`);
  const totalCounts = await counts.decrypt(got.counts);
  const totalSums = await sums.decrypt(got.sums);
  counts.dispose();
  sums.dispose();
  const encrypted = pooled(totalCounts, totalSums);

  // The same statistics in the clear over every record (for comparison only).
  const allCounts = new BigInt64Array(g);
  const allSums = new Float64Array(2 * g);
  for (let i = 0; i < hospitals; i++) {
    const s = localStatistics(patientsOf(i));
    s.counts.forEach((v, k) => {
      allCounts[k]! += v;
    });
    s.sums.forEach((v, k) => {
      allSums[k]! += v;
    });
  }
  const plain = pooled(allCounts, allSums);

  console.log(
    '\nage group | patients (encrypted / plain) | mean systolic (encrypted / plain) | SD (encrypted / plain)',
  );
  for (let k = 0; k < g; k++) {
    const e = encrypted[k]!;
    const p = plain[k]!;
    console.log(
      `${e.group.padEnd(9)} | ${String(e.count).padStart(7)} / ${String(p.count).padEnd(7)}          | ${e.mean.toFixed(6).padStart(11)} / ${p.mean.toFixed(6).padEnd(11)}       | ${e.sd.toFixed(6)} / ${p.sd.toFixed(6)}`,
    );
  }
  const maxMeanError = Math.max(...encrypted.map((e, k) => Math.abs(e.mean - plain[k]!.mean)));
  console.log(`\nlargest difference in a mean: ${maxMeanError.toExponential(2)} mmHg`);
  console.log(
    `RESULT ${JSON.stringify({ hospitals, encrypted, plain, maxMeanError, countsExact: encrypted.every((e, k) => e.count === plain[k]!.count) })}`,
  );
}

const role = arg('role');
if (role === 'aggregator') {
  const dir = arg('dir')!;
  await runAggregator(
    readFileSync(join(dir, 'bfv.params')),
    readFileSync(join(dir, 'ckks.params')),
    Number(arg('min')),
  );
} else if (role === 'hospital') {
  const dir = arg('dir')!;
  await runHospital(
    Number(arg('index')),
    Number(arg('port')),
    readFileSync(join(dir, 'bfv.params')),
    readFileSync(join(dir, 'ckks.params')),
  );
} else {
  await analyst();
}
