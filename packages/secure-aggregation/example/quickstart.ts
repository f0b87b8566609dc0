import { memoryChannelPair } from '@unseen/core';
import {
  aggregateUpdates,
  runSecAggClient,
  runSecAggServer,
  simulate,
} from '@unseen/secure-aggregation';

// 1. Federated averaging: 20 clients' updates weighted by example counts, SecAgg+ with 8
//    neighbours each; clients 3 and 11 drop after sharing their keys.
const updates = Array.from({ length: 20 }, (_, i) =>
  Float32Array.from({ length: 1000 }, (_, j) => Math.sin(i + j) / 2),
);
const weights = updates.map((_, i) => 100 + i);
const round = await aggregateUpdates(updates, {
  clip: 1,
  weights,
  neighbours: 8,
  dropouts: { maskedInput: [3, 11] },
});
const plain = updates
  .map((u, i) => (round.survivors.includes(i) ? u[0]! * weights[i]! : 0))
  .reduce((a, b) => a + b);
console.log(`survivors: ${round.survivors.length}, total weight: ${round.totalWeight}`);
console.log(
  `weighted mean[0] matches: ${Math.abs(round.mean[0]! - plain / round.totalWeight) < 1e-4}`,
);

// 2. Ring vectors (Z_2^32) through the simulator: client 2 drops after its masked input, so its
//    input still counts; below the threshold the round aborts.
const inputs = [
  Uint32Array.of(1, 2, 3),
  Uint32Array.of(10, 20, 30),
  Uint32Array.of(100, 200, 300),
  Uint32Array.of(1000, 2000, 3000),
];
const { sum, survivors } = await simulate({ inputs, dropouts: { unmask: [2] } });
console.log(`sum: ${Array.from(sum).join(', ')}; survivors: ${survivors.join(', ')}`);
try {
  await simulate({ inputs, dropouts: { shareKeys: [0, 1] } });
} catch (e) {
  console.log(`two of four dropped: ${(e as { code: string }).code}`);
}

// 3. The same over channels (in memory here; streamChannel for TCP, a WebSocket in a service).
const links = inputs.map(() => memoryChannelPair());
const [result] = await Promise.all([
  runSecAggServer(
    links.map(([server]) => server),
    { length: 3, roundTimeoutMs: 5000 },
  ),
  ...links.map(([, client], i) =>
    runSecAggClient(client, { input: inputs[i]!, expect: { length: 3 } }),
  ),
]);
console.log(`over channels: ${Array.from(result.sum).join(', ')}`);
