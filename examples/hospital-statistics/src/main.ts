/**
 * Hospital statistics: ten hospitals, one aggregator, one analyst, as separate processes on
 * 127.0.0.1. Each hospital enrols with a signing key of its own; the analyst creates the keys
 * (BFV for exact counts, CKKS for the sums and sums of squares of systolic blood pressure per
 * age group) for exactly those hospitals and publishes the public parameters; each hospital
 * encrypts its local statistics, signs them for this aggregation and sends them to the
 * aggregator, which checks and relays them without any key; the analyst adds them up itself and
 * decrypts the totals once. Printed beside the same statistics computed in the clear over all
 * records, which no party in a deployment could do.
 *
 *   node --conditions=source --import tsx src/main.ts [--hospitals 10]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes, isUnseenError, randomBytes, utf8ToBytes } from '@unseen/core';
import { createKeyHolder } from '@unseen/homomorphic';
import { AGE_GROUPS, localStatistics, patientsOf, pooled } from './data.js';
import { enrolHospital, fetchContributions, runAggregator, runHospital } from './roles.js';

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
  // One aggregation, one context: the key holders decrypt each context once.
  const context = utf8ToBytes(`hospital-statistics/${bytesToHex(randomBytes(16))}`);
  writeFileSync(join(dir, 'context'), context);

  // Enrolment: each hospital makes its own signing key and hands over the public key.
  const publicKeys: Uint8Array[] = new Array(hospitals);
  const enrolled = await Promise.all(
    Array.from(
      { length: hospitals },
      (_, i) =>
        child(['--role', 'enrol', '--index', String(i), '--dir', dir], (line) => {
          if (line.startsWith('public ')) publicKeys[i] = hexToBytes(line.slice(7));
        }).done,
    ),
  );
  if (enrolled.some((c) => c !== 0)) throw new Error('a hospital failed to enrol');
  writeFileSync(join(dir, 'hospitals'), publicKeys.map((k) => bytesToHex(k)).join('\n'));
  console.log(`[analyst] ${hospitals} hospitals enrolled with their signing keys`);

  const policy = { contributors: publicKeys, minContributions: hospitals };
  // Up to 20,000 patients per hospital: counts below 2^15; sums of squares below 20,000 * 300^2.
  const counts = await createKeyHolder({
    scheme: 'bfv',
    length: g,
    maxContributions: hospitals,
    valueBound: 1 << 15,
    ...policy,
  });
  const sums = await createKeyHolder({
    scheme: 'ckks',
    length: 2 * g,
    maxContributions: hospitals,
    valueBound: 2e9,
    precision: 1,
    maxDecryptions: 1,
    ...policy,
  });
  console.log(
    `[analyst] keys: BFV N=${counts.info.polyModulusDegree} (exact counts), CKKS N=${sums.info.polyModulusDegree} (sums within ${sums.info.errorBound.toFixed(3)}, decryption flooded at ${sums.info.statisticalSecurity}-bit statistical security)`,
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

  let got: Awaited<ReturnType<typeof fetchContributions>>;
  try {
    // Asking early is refused: fewer than `hospitals` contributions.
    const early = await fetchContributions(port);
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
    got = await fetchContributions(port);
  } finally {
    aggregator.proc.kill();
    await aggregator.done;
    rmSync(dir, { recursive: true, force: true });
  }
  if ('error' in got) throw new Error(`aggregator refused: ${got.error}`);

  // The key holders add the signed contributions themselves: the aggregator's count is no proof.
  const countRound = await counts.openRound(context);
  for (const c of got.counts) countRound.add(c);
  const sumRound = await sums.openRound(context);
  for (const c of got.sums) sumRound.add(c);
  console.log(
    `[analyst] summed ${countRound.count} + ${sumRound.count} signed contributions of registered hospitals`,
  );
  const totalCounts = await countRound.decrypt();
  const totalSums = await sumRound.decrypt();
  let again = 'decrypted again!';
  try {
    await counts.openRound(context);
  } catch (e) {
    if (isUnseenError(e)) again = e.code;
  }
  console.log(`[analyst] a second round of the same context: ${again}`);
  const errorBound = sums.info.errorBound;
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
  // What the error bound E of each sum implies: a mean within E / n; a variance
  // (S2 - S1^2 / n) / (n - 1) within (E + (2 |S1| E + E^2) / n) / (n - 1), so an SD within that
  // divided by the SD.
  const bounds = plain.map((p, k) => {
    const n = p.count;
    const s1 = Math.abs(allSums[k]!);
    const variance = (errorBound + (2 * s1 * errorBound + errorBound ** 2) / n) / (n - 1);
    return { mean: errorBound / n, sd: variance / p.sd };
  });

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
  console.log(
    `\nlargest difference in a mean: ${maxMeanError.toExponential(2)} mmHg (bound: sum error ${errorBound.toFixed(3)} / patients)`,
  );
  console.log(
    `RESULT ${JSON.stringify({ hospitals, encrypted, plain, bounds, errorBound, maxMeanError, countsExact: encrypted.every((e, k) => e.count === plain[k]!.count) })}`,
  );
}

const role = arg('role');
const dir = arg('dir')!;
if (role === 'enrol') {
  const publicKey = enrolHospital(join(dir, `hospital-${arg('index')}.key`));
  console.log(`public ${bytesToHex(publicKey)}`);
} else if (role === 'aggregator') {
  await runAggregator(
    readFileSync(join(dir, 'bfv.params')),
    readFileSync(join(dir, 'ckks.params')),
    readFileSync(join(dir, 'context')),
    readFileSync(join(dir, 'hospitals'), 'utf8')
      .split('\n')
      .map((h) => hexToBytes(h)),
    Number(arg('min')),
  );
} else if (role === 'hospital') {
  await runHospital(
    Number(arg('index')),
    Number(arg('port')),
    readFileSync(join(dir, `hospital-${arg('index')}.key`)),
    readFileSync(join(dir, 'bfv.params')),
    readFileSync(join(dir, 'ckks.params')),
    readFileSync(join(dir, 'context')),
  );
} else {
  await analyst();
}
