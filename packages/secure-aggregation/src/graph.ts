/**
 * The neighbour graph of SecAgg+ (Bell et al., CCS 2020): every client masks its input
 * only with its k neighbours in a random k-regular graph on the n clients, and shares its secrets
 * only with them. k = n - 1 is the complete graph of Bonawitz et al. (CCS 2017).
 *
 * The graph is the Harary graph H(k, n) (vertices on a ring, each joined to the k/2 nearest on
 * either side, and for odd k also to the opposite vertex) under a uniformly random relabelling of
 * its vertices, drawn by Fisher-Yates from the AES-CTR stream of a 16-byte seed that the server
 * publishes in the setup message. Every party derives the same graph from (n, k, seed).
 *
 * Why this graph is enough (the analysis in `analysis.ts`): for any set of removed clients fixed
 * before the seed, the relabelling places them uniformly on the ring, so (1) a client's k
 * neighbours are a uniform k-subset of the others (hypergeometric counts of colluding or
 * dropped neighbours), and (2) the survivors stay connected unless the removed positions
 * contain two separated runs of floor(k/2) consecutive ring positions, an event whose
 * probability has a closed-form union bound. {@link NeighbourGraph.components} computes the
 * components of any survivor set in O(n) from the same ring structure.
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

  /**
   * The clients in ring order (a copy): client `ringOrder()[p]` sits at position p of the Harary
   * ring, and neighbours are the clients within floor(k/2) positions (and, for odd k, the
   * opposite one). For the complete graph, 0..n-1. For audits of the relabelling and for tests.
   */
  ringOrder(): Uint32Array {
    if (this.#label !== undefined) return this.#label.slice();
    return Uint32Array.from({ length: this.clients }, (_, i) => i);
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

  /**
   * The connected components of the subgraph induced by the clients for which `alive(u)` holds,
   * each sorted ascending, largest first. O(n): on the ring, two alive positions are joined
   * through alive positions between them exactly when each gap between consecutive alive
   * positions is at most floor(k/2); odd k adds the opposite position.
   */
  components(alive: (u: number) => boolean): number[][] {
    const n = this.clients;
    const members: number[] = [];
    for (let u = 0; u < n; u++) if (alive(u)) members.push(u);
    if (this.#label === undefined || members.length <= 1) {
      return members.length === 0 ? [] : [members];
    }
    const label = this.#label;
    const parent = new Int32Array(n).fill(-1); // union-find over ring positions
    const find = (p: number): number => {
      let r = p;
      while (parent[r]! !== r) r = parent[r]!;
      while (parent[p]! !== r) {
        const next = parent[p]!;
        parent[p] = r;
        p = next;
      }
      return r;
    };
    const union = (a: number, b: number): void => {
      const ra = find(a);
      const rb = find(b);
      if (ra !== rb) parent[ra] = rb;
    };
    const positions: number[] = [];
    for (let p = 0; p < n; p++) {
      if (alive(label[p]!)) {
        parent[p] = p;
        positions.push(p);
      }
    }
    const half = this.neighbours >> 1;
    for (let i = 0; i < positions.length; i++) {
      const a = positions[i]!;
      const b = positions[(i + 1) % positions.length]!;
      if ((b - a + n) % n <= half) union(a, b);
      if (this.neighbours % 2 === 1) {
        const opposite = (a + n / 2) % n;
        if (parent[opposite]! >= 0) union(a, opposite);
      }
    }
    const byRoot = new Map<number, number[]>();
    for (const p of positions) {
      const r = find(p);
      const list = byRoot.get(r) ?? [];
      byRoot.set(r, list);
      list.push(label[p]!);
    }
    return [...byRoot.values()]
      .map((c) => c.sort((x, y) => x - y))
      .sort((x, y) => y.length - x.length || x[0]! - y[0]!);
  }
}
