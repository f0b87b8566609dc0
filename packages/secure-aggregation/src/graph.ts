/**
 * The neighbour graph of SecAgg+ (Bell et al., CCS 2020): every client masks its input
 * only with its k neighbours in a random k-regular graph on the n clients, and shares its secrets
 * only with them. k = n - 1 is the complete graph of Bonawitz et al. (CCS 2017).
 *
 * The graph is the Harary graph H(k, n) (vertices on a ring, each joined to the k/2 nearest on
 * either side, and for odd k also to the opposite vertex) under a uniformly random relabelling of
 * its vertices, drawn by Fisher-Yates from the AES-CTR stream of a 16-byte seed that the server
 * publishes in the setup message. Every party derives the same graph from (n, k, seed).
 * @module
 */
import { abytes, aint, PRG_SEED_BYTES, Prg, UnseenError } from '@unseen/core';

/** A k-regular graph on n clients, with each client's sorted group (itself and its neighbours). */
export class NeighbourGraph {
  /** Number of clients n. */
  readonly clients: number;
  /** Neighbours per client k. */
  readonly neighbours: number;
  /** label -> ring position. */
  readonly #position: Uint32Array | undefined;
  /** ring position -> label. */
  readonly #label: Uint32Array | undefined;
  readonly #groups = new Map<number, Uint32Array>();

  private constructor(clients: number, neighbours: number, label?: Uint32Array) {
    this.clients = clients;
    this.neighbours = neighbours;
    if (label !== undefined) {
      this.#label = label;
      this.#position = new Uint32Array(clients);
      for (let p = 0; p < clients; p++) this.#position[label[p]!] = p;
    }
  }

  /**
   * The graph for `(clients, neighbours, seed)`. The complete graph (k = n - 1) ignores the seed.
   * @throws UnseenError `ERR_INVALID_ARGUMENT` when no k-regular graph on n vertices exists
   */
  static async create(
    clients: number,
    neighbours: number,
    seed: Uint8Array,
  ): Promise<NeighbourGraph> {
    const n = aint(clients, 'clients', 2);
    const k = aint(neighbours, 'neighbours', 1, n - 1);
    abytes(seed, 'graph seed', PRG_SEED_BYTES);
    if (k === n - 1) return new NeighbourGraph(n, k);
    if (k % 2 === 1 && n % 2 === 1) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `no ${k}-regular graph on ${n} vertices exists (n * k must be even)`,
      );
    }
    // Fisher-Yates with unbiased indices: for i = n-1..1 draw j uniform in [0, i] by rejection.
    const label = new Uint32Array(n);
    for (let i = 0; i < n; i++) label[i] = i;
    const prg = await Prg.create(seed);
    const words = new Uint32Array(Math.min(4096, 2 * n));
    let w = words.length;
    for (let i = n - 1; i > 0; i--) {
      const bound = i + 1;
      const limit = 2 ** 32 - (2 ** 32 % bound); // largest multiple of bound below 2^32
      let r: number;
      do {
        if (w === words.length) {
          await prg.fill(words);
          w = 0;
        }
        r = words[w++]!;
      } while (r >= limit);
      const j = r % bound;
      const tmp = label[i]!;
      label[i] = label[j]!;
      label[j] = tmp;
    }
    return new NeighbourGraph(n, k, label);
  }

  /** True when every client neighbours every other (the full protocol). */
  get complete(): boolean {
    return this.#label === undefined;
  }

  /**
   * Client `u`'s group: `u` and its k neighbours, sorted ascending (k + 1 labels). Position `p` in
   * this list is the Shamir x-coordinate `p + 1` of the share that holder gets of u's secrets.
   */
  group(u: number): Uint32Array {
    aint(u, 'client', 0, this.clients - 1);
    let g = this.#groups.get(u);
    if (g !== undefined) return g;
    const n = this.clients;
    const k = this.neighbours;
    if (this.#label === undefined) {
      g = new Uint32Array(n);
      for (let i = 0; i < n; i++) g[i] = i;
    } else {
      const p = this.#position![u]!;
      const half = k >> 1;
      const members: number[] = [u];
      for (let d = 1; d <= half; d++) {
        members.push(this.#label[(p + d) % n]!, this.#label[(p - d + n) % n]!);
      }
      if (k % 2 === 1) members.push(this.#label[(p + n / 2) % n]!); // the opposite vertex
      g = Uint32Array.from(members).sort();
    }
    this.#groups.set(u, g);
    return g;
  }

  /** Position of `v` in `u`'s group, or -1 when v is not in it. */
  indexInGroup(u: number, v: number): number {
    const g = this.group(u);
    let lo = 0;
    let hi = g.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = g[mid]!;
      if (x === v) return mid;
      if (x < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** True when u and v are neighbours or equal. */
  inGroup(u: number, v: number): boolean {
    return this.indexInGroup(u, v) >= 0;
  }
}
