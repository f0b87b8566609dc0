// Memory stays flat: 10,000 contributions encrypted and aggregated, every SEAL object freed.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Aggregator,
  clearEncryptionSessions,
  createKeyHolder,
  encryptContribution,
} from '@unseen/homomorphic';
import { describe, expect, it } from 'vitest';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** WebAssembly memory (SEAL's heap) is counted in `external`; array buffers are not SEAL's. */
function usage() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { wasm: m.external - m.arrayBuffers, heap: m.heapUsed };
}

describe('memory', () => {
  it('does not grow with 10,000 contributions (encrypt, validate, add) nor with decryptions', async () => {
    const length = 64;
    const total = 10_000;
    const holder = await createKeyHolder({
      scheme: 'bfv',
      length,
      maxContributions: total,
      valueBound: 1000,
    });
    const aggregator = await Aggregator.create(holder.publicParams);
    const values = BigInt64Array.from({ length }, (_, i) => BigInt(i - 32));
    let at1000 = usage();
    let at5500 = usage();
    for (let i = 1; i <= total; i++) {
      aggregator.add(await encryptContribution(holder.publicParams, values, { pool: null }));
      if (i === 1000) at1000 = usage();
      if (i === 5500) at5500 = usage();
    }
    const at10000 = usage();
    const sum = await holder.decrypt(aggregator.result());
    expect(sum).toEqual(values.map((v) => v * BigInt(total)));
    for (let i = 0; i < 100; i++) await holder.decrypt(aggregator.result());
    const afterDecrypts = usage();
    // A leaked ciphertext and plaintext cost ~100 KB each time: 900 MB over 9,000 contributions.
    expect(at10000.wasm - at1000.wasm).toBeLessThan(1 << 20);
    expect(afterDecrypts.wasm - at10000.wasm).toBeLessThan(1 << 20);
    // The duplicate set holds a 64-character hex key per contribution, about 150 bytes (0.7 MB
    // per 4,500): a leak of 1 KB per contribution would add 4.5 MB per half. Both halves are
    // compared, so that the JIT's warm-up early on cannot pass for a leak.
    expect(at5500.heap - at1000.heap).toBeLessThan(2 << 20);
    expect(at10000.heap - at5500.heap).toBeLessThan(2 << 20);
    holder.dispose();
    await clearEncryptionSessions();
  }, 600_000);
});
