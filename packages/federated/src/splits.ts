/**
 * Splitting one dataset across simulated clients: IID, label skew by shards (McMahan et al.
 * 2017, section 3: sort by label, cut into 2 shards per client) and label skew by a Dirichlet
 * prior over class proportions (Hsu, Qi, Brown 2019; Yurochkin et al. 2019). All draws come
 * from an {@link Rng}: seed it and the split is reproducible.
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';
import { type Dataset, gatherRows } from './models/dataset.js';
import type { Rng } from './random.js';

/** How to split data across clients. */
export type SplitSpec =
  | { kind: 'iid' }
  | { kind: 'shards'; shardsPerClient?: number }
  | { kind: 'dirichlet'; alpha: number; minExamples?: number };

/** Row indices of each client. */
export type Partition = Uint32Array[];

/** Shuffles all rows and deals them out in near-equal parts. */
export async function splitIid(count: number, clients: number, rng: Rng): Promise<Partition> {
  aint(clients, 'clients', 1, count);
  const perm = await rng.permutation(count);
  const out: Partition = [];
  for (let c = 0; c < clients; c++) {
    const start = Math.floor((c * count) / clients);
    const end = Math.floor(((c + 1) * count) / clients);
    out.push(perm.slice(start, end));
  }
  return out;
}

/**
 * McMahan et al.'s pathological non-IID split: rows sorted by label, cut into
 * `clients * shardsPerClient` equal shards, each client given `shardsPerClient` random shards
 * (so most clients see only two digits).
 */
export async function splitShards(
  labels: ArrayLike<number>,
  clients: number,
  rng: Rng,
  shardsPerClient = 2,
): Promise<Partition> {
  const count = labels.length;
  aint(shardsPerClient, 'shardsPerClient', 1);
  aint(clients, 'clients', 1, Math.floor(count / shardsPerClient));
  // A stable sort by label after a shuffle: shards mix rows of a label at random.
  const perm = Array.from(await rng.permutation(count));
  perm.sort((a, b) => labels[a]! - labels[b]!);
  const shards = clients * shardsPerClient;
  const shardOrder = await rng.permutation(shards);
  const out: Partition = [];
  for (let c = 0; c < clients; c++) {
    const rows: number[] = [];
    for (let s = 0; s < shardsPerClient; s++) {
      const shard = shardOrder[c * shardsPerClient + s]!;
      const start = Math.floor((shard * count) / shards);
      const end = Math.floor(((shard + 1) * count) / shards);
      for (let i = start; i < end; i++) rows.push(perm[i]!);
    }
    out.push(Uint32Array.from(rows));
  }
  return out;
}

/**
 * Label skew from a Dirichlet prior: for each class, the proportions of its rows that go to
 * each client are drawn from Dir(alpha). Small alpha (0.1) gives clients dominated by few
 * classes; large alpha (100) is close to IID. Redraws (up to 100 times) until every client
 * has at least `minExamples` rows.
 */
export async function splitDirichlet(
  labels: ArrayLike<number>,
  classes: number,
  clients: number,
  rng: Rng,
  alpha: number,
  minExamples = 1,
): Promise<Partition> {
  anumber(alpha, 'alpha', Number.MIN_VALUE);
  aint(clients, 'clients', 1);
  aint(minExamples, 'minExamples', 0, Math.floor(labels.length / clients));
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  const perm = await rng.permutation(labels.length);
  for (const r of perm) byClass[labels[r]!]!.push(r);
  for (let attempt = 0; attempt < 100; attempt++) {
    const rows: number[][] = Array.from({ length: clients }, () => []);
    for (const members of byClass) {
      const p = await rng.dirichlet(clients, alpha);
      let cum = 0;
      let start = 0;
      for (let c = 0; c < clients; c++) {
        cum += p[c]!;
        const end = c === clients - 1 ? members.length : Math.round(cum * members.length);
        for (let i = start; i < end; i++) rows[c]!.push(members[i]!);
        start = Math.max(start, end);
      }
    }
    if (rows.every((r) => r.length >= minExamples)) return rows.map((r) => Uint32Array.from(r));
  }
  throw new UnseenError(
    'ERR_INVALID_ARGUMENT',
    `splitDirichlet: no split with ${minExamples} rows per client in 100 draws; raise alpha or lower minExamples`,
  );
}

/** Splits `data` as `spec` says and returns one dataset per client. */
export async function splitDataset(
  data: Dataset,
  clients: number,
  spec: SplitSpec,
  rng: Rng,
): Promise<Dataset[]> {
  let parts: Partition;
  if (spec.kind === 'iid') parts = await splitIid(data.count, clients, rng);
  else if (spec.kind === 'shards')
    parts = await splitShards(data.y, clients, rng, spec.shardsPerClient ?? 2);
  else
    parts = await splitDirichlet(
      data.y,
      data.classes,
      clients,
      rng,
      spec.alpha,
      spec.minExamples ?? 1,
    );
  return parts.map((rows) => gatherRows(data, rows));
}

/** Rows per class of each client: a `clients x classes` table for reports. */
export function labelHistogram(parts: readonly Dataset[]): number[][] {
  return parts.map((d) => {
    const h = new Array<number>(d.classes).fill(0);
    for (let i = 0; i < d.count; i++) h[d.y[i]!]!++;
    return h;
  });
}
