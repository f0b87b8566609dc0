/**
 * One bank as a process.
 *
 *   bank.ts risk-holder --csv risk-list.csv [--port 0]   (bank B: PSI server, labels = risk)
 *   bank.ts customer-bank --csv customers.csv --port N   (bank A: PSI client)
 *
 * Bank B prints `listening <port>` once ready; both print progress and, at the end, a summary
 * line `RESULT {...}` (JSON) with the matched count and the bytes each side sent.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { streamChannel } from '@unseen/core';
import { type PsiProgress, PsiServer, runPsiClient, runPsiServer } from '@unseen/psi';
import { getDefaultPool } from '@unseen/workers';
import { parseCsv } from './data.js';

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

function progress(who: string): (p: PsiProgress) => void {
  let last = '';
  return (p) => {
    const pct = p.total === 0 ? 100 : Math.floor((100 * p.done) / p.total);
    const line = `[${who}] ${p.phase} ${pct}% (${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')})`;
    if (line !== last) console.log(line);
    last = line;
  };
}

async function riskHolder(): Promise<void> {
  const { ids, second: risks } = parseCsv(await readFile(arg('csv'), 'utf8'));
  console.log(
    `[bank-b] ${ids.length.toLocaleString('en')} IDs on the risk list; computing the setup`,
  );
  const t0 = performance.now();
  const server = await PsiServer.create({
    items: ids,
    mode: 'labels',
    labels: risks,
    fpr: 1e-9,
    maxClientItems: Number(arg('max-client', '1048576')),
  });
  await server.setup();
  console.log(`[bank-b] setup ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const listener = createServer();
  listener.listen(Number(arg('port', '0')), '127.0.0.1');
  await new Promise((r) => listener.once('listening', r));
  console.log(`listening ${(listener.address() as { port: number }).port}`);
  const socket = await new Promise<Socket>((r) => listener.once('connection', r));
  listener.close();
  const channel = streamChannel(socket);
  const stats = await runPsiServer(channel, { server, onProgress: progress('bank-b') });
  channel.close();
  console.log(
    `RESULT ${JSON.stringify({ role: 'bank-b', clientItems: stats.clientItems, bytesSent: stats.bytesSent, bytesReceived: stats.bytesReceived })}`,
  );
}

async function customerBank(): Promise<void> {
  const { ids } = parseCsv(await readFile(arg('csv'), 'utf8'));
  console.log(`[bank-a] ${ids.length.toLocaleString('en')} customers to check`);
  const socket = connect(Number(arg('port')), '127.0.0.1');
  await new Promise((r, j) => socket.once('connect', r).once('error', j));
  const channel = streamChannel(socket);
  const t0 = performance.now();
  const result = await runPsiClient(channel, {
    items: ids,
    mode: 'labels',
    chunkItems: 16_384,
    onProgress: progress('bank-a'),
  });
  channel.close();
  const byRisk: Record<string, number> = {};
  for (const l of result.labels) byRisk[String(l)] = (byRisk[String(l)] ?? 0) + 1;
  console.log(
    `[bank-a] ${result.intersection.length.toLocaleString('en')} of our customers are on bank B's risk list (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  for (const [risk, n] of Object.entries(byRisk).sort()) console.log(`[bank-a]   ${risk}: ${n}`);
  console.log(
    `RESULT ${JSON.stringify({ role: 'bank-a', matched: result.intersection.length, byRisk, bytesSent: result.bytesSent, bytesReceived: result.bytesReceived })}`,
  );
}

const role = process.argv[2];
(role === 'risk-holder'
  ? riskHolder()
  : role === 'customer-bank'
    ? customerBank()
    : Promise.reject(new Error(`unknown role ${role}`))
)
  .then(() => getDefaultPool().close())
  .catch((e: unknown) => {
    console.error(`[${role}] failed:`, e instanceof Error ? e.message : e);
    process.exit(1);
  });
