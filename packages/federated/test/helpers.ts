/** Test helpers: tiny synthetic datasets (seeded) and in-process federations. */
import { type Channel, isUnseenError, memoryChannelPair } from '@unseen/core';
import {
  createDataset,
  type Dataset,
  FedAvgClient,
  type FedAvgClientOptions,
  Rng,
  runFedAvgClient,
} from '@unseen/federated';
import { expect } from 'vitest';

/** `count` rows of `features` values around one centre per class (seeded Gaussian blobs). */
export async function blobs(
  count: number,
  features: number,
  classes: number,
  seed = 7,
): Promise<Dataset> {
  const rng = await Rng.seeded(seed);
  const centres = await rng.normals(classes * features, 2);
  const noise = await rng.normals(count * features, 1);
  const x = new Float32Array(count * features);
  const y: number[] = [];
  for (let i = 0; i < count; i++) {
    const c = i % classes;
    y.push(c);
    for (let f = 0; f < features; f++)
      x[i * features + f] = centres[c * features + f]! + noise[i * features + f]!;
  }
  return createDataset(x, y, features, classes);
}

/** Starts clients on memory channels; returns the server's channels and the client runs. */
export function startClients(
  clients: Record<string, FedAvgClientOptions>,
  timeoutMs = 10_000,
): {
  channels: Map<string, Channel>;
  runs: Promise<unknown>[];
  clientChannels: Map<string, Channel>;
} {
  const channels = new Map<string, Channel>();
  const clientChannels = new Map<string, Channel>();
  const runs: Promise<unknown>[] = [];
  for (const [id, opts] of Object.entries(clients)) {
    const [s, c] = memoryChannelPair({ timeoutMs });
    channels.set(id, s);
    clientChannels.set(id, c);
    runs.push(
      runFedAvgClient(c, new FedAvgClient(opts), { idleTimeoutMs: timeoutMs }).catch(
        (e: unknown) => e,
      ),
    );
  }
  return { channels, runs, clientChannels };
}

/** The `UnseenError` code `f` throws (or rejects with), or 'none'. */
export async function codeOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(isUnseenError(e), String(e)).toBe(true);
    return (e as { code: string }).code;
  }
  return 'none';
}
