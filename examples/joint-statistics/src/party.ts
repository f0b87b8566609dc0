/**
 * One process of the example: a hospital (`--hospital <i>`) or the dealer (`--dealer`). It is
 * started by `main.ts` with an IPC channel: it reports its listening port, receives everyone's
 * ports and the session id, runs, and reports its result. A hospital reads only its own records.
 * @module
 */
import { hexToBytes } from '@unseen/core';
import { MpcSession, runDealer } from '@unseen/secret-sharing';
import { connectPeers, dial, Listener } from './network.js';
import { HOSPITALS, hospitalRecords } from './records.js';
import { jointStatistics } from './statistics.js';

interface Setup {
  session: string;
  ports: number[];
  dealerPort: number;
}

function send(message: unknown): void {
  process.send?.(message);
}

function setup(): Promise<Setup> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as Setup)));
}

async function hospital(index: number): Promise<void> {
  const listener = await Listener.open();
  send({ type: 'listening', port: listener.port });
  const { session, ports, dealerPort } = await setup();
  const [peers, dealer] = await Promise.all([
    connectPeers(index, ports, listener),
    dial(dealerPort, index),
  ]);
  const mpc = MpcSession.create({
    party: index,
    parties: ports.length,
    peers,
    dealer,
    session: hexToBytes(session),
    timeoutMs: 20_000,
  });
  try {
    const result = await jointStatistics(mpc, hospitalRecords(index));
    const sent = peers.reduce((acc, c) => acc + (c?.bytesSent ?? 0), dealer.bytesSent);
    send({ type: 'result', hospital: HOSPITALS[index]!.name, ...result, bytesSent: sent });
  } finally {
    for (const c of [...peers, dealer]) c?.close();
    listener.close();
  }
}

async function dealer(parties: number): Promise<void> {
  const listener = await Listener.open();
  send({ type: 'listening', port: listener.port });
  const { session } = await setup();
  const channels = await Promise.all(Array.from({ length: parties }, (_, i) => listener.accept(i)));
  try {
    const stats = await runDealer({
      parties,
      session: hexToBytes(session),
      channels,
      timeoutMs: 20_000,
    });
    send({ type: 'result', dealer: true, ...stats });
  } finally {
    for (const c of channels) c.close();
    listener.close();
  }
}

const [role, arg] = process.argv.slice(2);
const run = role === '--dealer' ? dealer(Number(arg)) : hospital(Number(arg));
run.then(
  () => process.disconnect?.(),
  (e: unknown) => {
    const error = e as { code?: string; message?: string };
    send({ type: 'error', code: error.code ?? 'UNKNOWN', message: error.message ?? String(e) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
