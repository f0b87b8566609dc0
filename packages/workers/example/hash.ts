// Hashes 32 MiB of records in 1 MiB chunks on every core, then checks one digest on this thread.
import { bytesToHex, isUnseenError, randomBytes, sha256 } from '@unseen/core';
import { getDefaultPool } from '@unseen/workers';
import { hashTasks } from './hash-tasks.js';

const pool = getDefaultPool(); // shared by every package in the process, one worker per core
const records = 32 * 1024; // of 1 KiB each
const perChunk = 1024;
const chunks = Array.from({ length: records / perChunk }, () => randomBytes(perChunk * 1024));
const check = sha256(chunks[3]!.subarray(5 * 1024, 6 * 1024)); // record 5 of chunk 3

const ctrl = new AbortController();
const digests = await pool.map(
  hashTasks,
  'digestSlices',
  chunks.map((c) => [c, perChunk] as [Uint8Array, number]),
  { transfer: ([c]) => [c.buffer], signal: ctrl.signal, timeoutMs: 60_000 },
);
console.log(`${pool.size} workers hashed ${records} records`);
console.log('moved, not copied:', chunks[0]!.byteLength === 0);
console.log(
  'record 3/5 matches:',
  bytesToHex(digests[3]!.subarray(5 * 32, 6 * 32)) === bytesToHex(check),
);

try {
  await pool.run(hashTasks, 'digestSlices', [new Uint8Array(10), 3]);
} catch (e) {
  if (isUnseenError(e)) console.log('error from the worker:', e.code, '-', e.message);
}
await pool.close(); // optional: an idle pool does not keep Node running
