/**
 * The trusted dealer of an MPC session: it answers the parties' requests for multiplication
 * triples and truncation pairs. {@link TrustedDealer} is the sans-I/O core (requests in,
 * responses out); {@link runDealer} serves it on one Channel per party.
 *
 * The dealer is trusted: it knows every triple and pair in the clear, so it must not collude
 * with any party nor see the values the parties open to each other. It learns nothing about the
 * inputs as long as it does not see those openings (run the parties' channels over TLS or another
 * private transport when the dealer could observe the network).
 * @module
 */
import {
  abytes,
  aint,
  type Channel,
  isUnseenError,
  SESSION_ID_BYTES,
  UnseenError,
} from '@unseen/core';
import { dealCorrelation } from './correlations.js';
import {
  DEALER_ID,
  type DealerRequest,
  decodeRequest,
  encodeAbort,
  encodeMaterial,
} from './mpc-messages.js';

/** Options of {@link TrustedDealer}. */
export interface TrustedDealerOptions {
  /** Number of parties n. */
  parties: number;
  /** The 16-byte session id shared by the parties and the dealer. */
  session: Uint8Array;
  /** Largest request served, in elements (default 2^24). */
  maxElements?: number;
}

/** Default limit on elements per request or opened vector: 16 M. */
export const DEFAULT_MAX_ELEMENTS = 1 << 24;

/**
 * Sans-I/O dealer: give it the n requests of one round (one per party, in party order) and it
 * returns the n responses, after checking that all parties asked for the same thing.
 */
export class TrustedDealer {
  readonly parties: number;
  readonly session: Uint8Array;
  readonly maxElements: number;
  #next = 1;
  #elements = 0;

  constructor(options: TrustedDealerOptions) {
    this.parties = aint(options.parties, 'parties', 2, 65_535);
    this.session = abytes(options.session, 'session', SESSION_ID_BYTES).slice();
    this.maxElements = aint(options.maxElements ?? DEFAULT_MAX_ELEMENTS, 'maxElements', 1);
  }

  /** Elements of correlated randomness dealt so far (per party). */
  get elements(): number {
    return this.#elements;
  }

  /** Number of the next request expected (1, 2, ...). */
  get nextRequest(): number {
    return this.#next;
  }

  /**
   * Answers one round.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` and other decoding codes, `ERR_UNEXPECTED_MESSAGE`
   * (wrong request number or sender), `ERR_PARAMETER_MISMATCH` (parties disagree)
   */
  async respond(requests: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (!Array.isArray(requests) || requests.length !== this.parties) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `dealer: expected ${this.parties} requests`);
    }
    const decoded: DealerRequest[] = requests.map((bytes) =>
      decodeRequest(bytes, this.session, this.maxElements),
    );
    const first = decoded[0]!;
    decoded.forEach((d, i) => {
      if (d.from !== i) {
        throw new UnseenError(
          'ERR_UNEXPECTED_MESSAGE',
          `dealer: request on channel ${i} comes from party ${d.from}`,
        );
      }
      if (d.request !== this.#next) {
        throw new UnseenError(
          'ERR_UNEXPECTED_MESSAGE',
          `dealer: party ${i} sent request ${d.request}, expected ${this.#next}`,
        );
      }
      const same =
        d.parties === this.parties &&
        d.spec.kind === first.spec.kind &&
        d.spec.bits === first.spec.bits &&
        d.spec.length === first.spec.length &&
        d.spec.shift === first.spec.shift;
      if (!same) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          `dealer: party ${i} asked for other material than party 0`,
          {
            details: { party: i },
          },
        );
      }
    });
    const { spec } = first;
    const { seeds, correction } = await dealCorrelation(spec, this.parties);
    const empty = new Uint32Array(0);
    const out = seeds.map((seed, p) =>
      encodeMaterial(
        this.session,
        this.#next,
        spec,
        seed,
        p === this.parties - 1 ? correction : empty,
      ),
    );
    correction.fill(0);
    this.#next++;
    this.#elements += spec.length;
    return out;
  }
}

/** Options of {@link runDealer}. */
export interface RunDealerOptions extends TrustedDealerOptions {
  /** `channels[i]` leads to party i. */
  channels: readonly Channel[];
  /** Longest wait for a party's next request, in ms (default 30,000). */
  timeoutMs?: number;
  /** Stops the dealer (pending waits fail with `ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** What a dealer served. */
export interface DealerStats {
  /** Rounds answered. */
  requests: number;
  /** Elements of correlated randomness dealt (per party). */
  elements: number;
}

/**
 * Serves requests until every party has closed its channel between rounds, then resolves. A
 * malformed or inconsistent request, a timeout or an abort from a party stops the dealer: it
 * tells every party (an `abort` message) and rejects.
 */
export async function runDealer(options: RunDealerOptions): Promise<DealerStats> {
  const dealer = new TrustedDealer(options);
  const { channels, timeoutMs, signal } = options;
  if (!Array.isArray(channels) || channels.length !== dealer.parties) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `runDealer: expected ${dealer.parties} channels`);
  }
  const wait = {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(signal === undefined ? {} : { signal }),
  };
  for (;;) {
    const results = await Promise.allSettled(channels.map((c) => c.receive(wait)));
    const closed = results.filter(
      (r) => r.status === 'rejected' && isUnseenError(r.reason, 'ERR_CHANNEL_CLOSED'),
    );
    if (closed.length === channels.length) {
      return { requests: dealer.nextRequest - 1, elements: dealer.elements };
    }
    try {
      const failed = results.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      const requests = results.map((r) => (r as PromiseFulfilledResult<Uint8Array>).value);
      const responses = await dealer.respond(requests);
      await Promise.all(responses.map((m, i) => channels[i]!.send(m)));
    } catch (e) {
      const error = isUnseenError(e)
        ? e
        : new UnseenError('ERR_PROTOCOL_ABORTED', 'dealer failed', { cause: e });
      const abort = encodeAbort(
        dealer.session,
        dealer.nextRequest,
        DEALER_ID,
        error.code,
        error.message,
      );
      await Promise.allSettled(channels.map((c) => (c.closed ? undefined : c.send(abort))));
      throw error;
    }
  }
}
