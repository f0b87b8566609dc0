/**
 * In-memory wiring for an MPC session: a full mesh of channels between n parties and, if asked,
 * a channel from every party to a dealer. For tests, simulations and single-process demos; real
 * deployments put core's `streamChannel` (TCP) or a WebSocket channel in the same places.
 * @module
 */
import { aint, type Channel, type ChannelOptions, memoryChannelPair } from '@unseen/core';

/** The channels of {@link memoryMesh}. */
export interface MemoryMesh {
  /** `peers[i][j]`: party i's channel to party j (undefined on the diagonal). */
  peers: (Channel | undefined)[][];
  /** `toDealer[i]`: party i's channel to the dealer. */
  toDealer: Channel[];
  /** `dealer[i]`: the dealer's channel to party i. */
  dealer: Channel[];
  /** Closes every channel. */
  close(): void;
}

/** Connects `parties` parties pairwise, and each of them to a dealer, in memory. */
export function memoryMesh(parties: number, options: ChannelOptions = {}): MemoryMesh {
  aint(parties, 'parties', 2, 255);
  const peers: (Channel | undefined)[][] = Array.from({ length: parties }, () =>
    new Array(parties).fill(undefined),
  );
  const all: Channel[] = [];
  for (let i = 0; i < parties; i++) {
    for (let j = i + 1; j < parties; j++) {
      const [a, b] = memoryChannelPair(options);
      peers[i]![j] = a;
      peers[j]![i] = b;
      all.push(a, b);
    }
  }
  const toDealer: Channel[] = [];
  const dealer: Channel[] = [];
  for (let i = 0; i < parties; i++) {
    const [a, b] = memoryChannelPair(options);
    toDealer.push(a);
    dealer.push(b);
    all.push(a, b);
  }
  const close = (): void => {
    for (const c of all) c.close();
  };
  return { peers, toDealer, dealer, close };
}
