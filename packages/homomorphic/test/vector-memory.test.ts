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
    for (let i = 1; i <= total; i++) {
      aggregator.add(await encryptContribution(holder.publicParams, values, { pool: null }));
      if (i === 1000) at1000 = usage();
    }
    const at10000 = usage();
    const sum = await holder.decrypt(aggregator.result());
    expect(sum).toEqual(values.map((v) => v * BigInt(total)));
    for (let i = 0; i < 100; i++) await holder.decrypt(aggregator.result());
    const afterDecrypts = usage();
    // A leaked ciphertext and plaintext cost ~100 KB each time: 900 MB over 9,000 contributions.
    // What may grow is the aggregator's duplicate set (~100 bytes per contribution).
    expect(at10000.wasm - at1000.wasm).toBeLessThan(1 << 20);
    expect(afterDecrypts.wasm - at10000.wasm).toBeLessThan(1 << 20);
    expect(at10000.heap - at1000.heap).toBeLessThan(8 << 20);
    holder.dispose();
    await clearEncryptionSessions();
  }, 600_000);
});
