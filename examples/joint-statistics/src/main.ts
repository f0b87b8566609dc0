/**
 * Joint statistics across three hospitals, each in its own process, over TCP on this machine:
 * the hospitals compute the mean and variance of their patients' systolic blood pressure over
 * all their records together, and no hospital shows another a record or even its own totals.
 * A trusted dealer process supplies the multiplication triples and truncation pairs.
 *
 * `pnpm start` (in this folder) prints what every hospital learned beside the plain computation
 * over all records (which only this demo, holding every synthetic data set, can do).
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bytesToHex, newSessionId } from '@unseen/core';
import { HOSPITALS, hospitalRecords, plainStatistics } from './records.js';

const here = dirname(fileURLToPath(import.meta.url));
const PARTY = join(here, 'party.ts');
const TIMEOUT_MS = 60_000;

/** What a hospital process reports. */
export interface HospitalReport {
  hospital: string;
  count: number;
  mean: number;
  variance: number;
  bytesSent: number;
}

/** The outcome of a run. */
export interface JointRun {
  reports: HospitalReport[];
  dealer: { requests: number; elements: number };
  plain: { count: number; mean: number; variance: number };
}

type Message =
  | { type: 'listening'; port: number }
  | { type: 'result' }
  | { type: 'error'; code: string; message: string };

function start(args: string[]): { child: ChildProcess; next: () => Promise<Message> } {
  const child = fork(PARTY, args, {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    cwd: join(here, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: Message[] = [];
  const waiters: ((m: Message) => void)[] = [];
  child.on('message', (m) => {
    const w = waiters.shift();
    if (w) w(m as Message);
    else queue.push(m as Message);
  });
  const next = (): Promise<Message> =>
    new Promise((resolve, reject) => {
      const queued = queue.shift();
      if (queued) return resolve(queued);
      const onExit = (code: number | null) =>
        reject(new Error(`${args.join(' ')} exited with ${code}`));
      child.once('exit', onExit);
      waiters.push((m) => {
        child.off('exit', onExit);
        resolve(m);
      });
    });
  return { child, next };
}

async function expectMessage<T extends Message['type']>(
  p: { next: () => Promise<Message> },
  type: T,
  who: string,
): Promise<Extract<Message, { type: T }> & Record<string, unknown>> {
  const m = await p.next();
  if (m.type === 'error') throw new Error(`${who}: ${m.code}: ${m.message}`);
  if (m.type !== type) throw new Error(`${who}: expected ${type}, got ${m.type}`);
  return m as Extract<Message, { type: T }> & Record<string, unknown>;
}

/** Starts the dealer and the hospitals as processes, runs the computation, and collects results. */
export async function runJointStatistics(): Promise<JointRun> {
  const parties = HOSPITALS.length;
  const dealer = start(['--dealer', String(parties)]);
  const hospitals = HOSPITALS.map((_, i) => start(['--hospital', String(i)]));
  const all = [dealer, ...hospitals];
  const timer = setTimeout(() => {
    for (const p of all) p.child.kill();
  }, TIMEOUT_MS);
  try {
    const dealerPort = (await expectMessage(dealer, 'listening', 'dealer')).port;
    const ports = await Promise.all(
      hospitals.map(async (h, i) => (await expectMessage(h, 'listening', `hospital ${i}`)).port),
    );
    const session = bytesToHex(newSessionId());
    for (const p of all) p.child.send({ session, ports, dealerPort });
    const reports = await Promise.all(
      hospitals.map(
        async (h, i) =>
          (await expectMessage(h, 'result', `hospital ${i}`)) as unknown as HospitalReport,
      ),
    );
    const stats = (await expectMessage(
      dealer,
      'result',
      'dealer',
    )) as unknown as JointRun['dealer'];
    const everything = HOSPITALS.flatMap((_, i) => Array.from(hospitalRecords(i)));
    return {
      reports,
      dealer: { requests: stats.requests, elements: stats.elements },
      plain: plainStatistics(everything),
    };
  } finally {
    clearTimeout(timer);
    for (const p of all) if (p.child.exitCode === null) p.child.kill();
  }
}

function print(run: JointRun): void {
  const f = (x: number, d = 4) => x.toFixed(d).padStart(12);
  console.log('Systolic blood pressure (mmHg) over the records of three hospitals\n');
  console.log(
    `${'who'.padEnd(22)}${'count'.padStart(8)}${'mean'.padStart(12)}${'variance'.padStart(12)}  bytes sent`,
  );
  for (const r of run.reports) {
    console.log(
      `${`${r.hospital} (MPC)`.padEnd(22)}${String(r.count).padStart(8)}${f(r.mean)}${f(r.variance)}  ${r.bytesSent}`,
    );
  }
  const p = run.plain;
  console.log(
    `${'plain, all records'.padEnd(22)}${String(p.count).padStart(8)}${f(p.mean)}${f(p.variance)}`,
  );
  const r = run.reports[0]!;
  console.log(
    `\ndifference: mean ${(r.mean - p.mean).toExponential(2)}, variance ${(r.variance - p.variance).toExponential(2)}` +
      ` (sample variance ${((p.variance * p.count) / (p.count - 1)).toFixed(4)})`,
  );
  console.log(
    `dealer: ${run.dealer.requests} batches of correlated randomness, ${run.dealer.elements} elements`,
  );
  console.log(
    'Each hospital saw the cohort size, the mean and the variance; no record and no hospital total.',
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runJointStatistics().then(print, (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
