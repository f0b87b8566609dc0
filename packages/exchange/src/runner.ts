/**
 * Job runners: the pluggable part of a job. A runner carries out one family of computations
 * between the consumer and the providers over {@link Channel}s (through the relay or any
 * other transport); the exchange only admits, relays and records. The psi, aggregate and
 * federated families each register one runner; a runner checks the ticket's parameters before
 * it starts and must not release anything below the ticket's `minCohort`.
 * @module
 */
import { type Channel, isUnseenError, UnseenError } from '@unseen/core';
import type { Computation } from './computations.js';
import type { Identity, PublicIdentity } from './identity.js';
import type { PrivacyAmount } from './policy.js';
import type { Cell, Schema } from './schema.js';
import type { JobTicket, PrivacyStatement, RoundUsage } from './ticket.js';

/** Progress of a long job, for CLIs and UIs. */
export interface Progress {
  phase: string;
  done?: number;
  total?: number;
}

/** What every side of a run gets. */
export interface RunContext {
  ticket: JobTicket;
  identity: Identity;
  /** The job's other parties. */
  peers: readonly PublicIdentity[];
  /** The channel to one peer. */
  channel(peerKeyId: string): Channel;
  signal: AbortSignal;
  progress(p: Progress): void;
}

/** A provider's data, loaded locally; it never leaves the provider. */
export interface LocalAsset {
  id: string;
  schema: Schema;
  rows: readonly (readonly Cell[])[];
}

/** The provider's side of a run. */
export interface ProviderRunContext extends RunContext {
  /** The provider's assets that the ticket names. */
  assets: readonly LocalAsset[];
}

/** The consumer's side of a run. */
export interface ConsumerRunContext extends RunContext {
  /** The consumer's own input (its set for PSI, nothing for aggregates, ...). */
  input: unknown;
}

/** What the consumer ends with. */
export interface ConsumerOutcome {
  result: unknown;
  /** The bytes whose SHA-256 goes into the report and the receipt. */
  resultBytes: Uint8Array;
  /** Per-round usage, for jobs that run in rounds (goes into the report and the receipt). */
  rounds?: RoundUsage[];
}

/** What the provider ends with. */
export interface ProviderOutcome {
  /** Records its data contributed. */
  records: number;
  /** The differential privacy its own noise gave its records, when it added noise. */
  privacy?: PrivacyStatement;
}

/** One family's implementation. */
export interface JobRunner {
  readonly computations: readonly Computation[];
  /**
   * Checks parameters, and that the privacy the job states covers what the computation spends.
   * The exchange calls it before admission, each party again before it runs.
   * @throws UnseenError `ERR_INVALID_ARGUMENT`
   */
  validateParams(
    computation: Computation,
    params: Record<string, unknown>,
    cohort: number,
    privacy?: PrivacyAmount | null,
  ): void;
  runProvider(ctx: ProviderRunContext): Promise<ProviderOutcome>;
  runConsumer(ctx: ConsumerRunContext): Promise<ConsumerOutcome>;
}

/** Runners by computation. */
export class RunnerRegistry {
  readonly #byComputation = new Map<Computation, JobRunner>();

  constructor(runners: readonly JobRunner[] = []) {
    for (const r of runners) this.register(r);
  }

  /** Adds a runner. @throws UnseenError `ERR_CONFLICT` if a computation already has one */
  register(runner: JobRunner): this {
    for (const c of runner.computations) {
      if (this.#byComputation.has(c))
        throw new UnseenError('ERR_CONFLICT', `a runner for ${c} is already registered`);
    }
    for (const c of runner.computations) this.#byComputation.set(c, runner);
    return this;
  }

  has(computation: Computation): boolean {
    return this.#byComputation.has(computation);
  }

  /** The runner of a computation. @throws UnseenError `ERR_UNSUPPORTED` */
  get(computation: Computation): JobRunner {
    const r = this.#byComputation.get(computation);
    if (r === undefined) {
      throw new UnseenError('ERR_UNSUPPORTED', `no runner for ${computation} is installed`, {
        details: { computation },
      });
    }
    return r;
  }

  /** Computations with a runner. */
  get computations(): Computation[] {
    return [...this.#byComputation.keys()];
  }
}

/**
 * The index of column `name` in an asset, which must have one of `types`.
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function assetColumn(asset: LocalAsset, name: string, types: readonly string[]): number {
  const i = asset.schema.findIndex((f) => f.name === name);
  if (i < 0 || !types.includes(asset.schema[i]!.type)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `asset ${asset.id} has no ${types.join('/')} column ${name}`,
    );
  }
  return i;
}

/**
 * Refuses an asset with fewer records than the ticket's minimum cohort, before anything is
 * computed on it (refusing reveals that the count is small, no more).
 * @throws UnseenError `ERR_POLICY_DENIED` with `details.reason = 'cohort-below-minimum'`
 */
export function assertCohort(asset: LocalAsset, minCohort: number): void {
  if (asset.rows.length < minCohort) {
    throw new UnseenError(
      'ERR_POLICY_DENIED',
      `asset ${asset.id} has fewer records than the minimum cohort ${minCohort}`,
      { details: { reason: 'cohort-below-minimum' } },
    );
  }
}

/** The code a party reports when its run fails: the error's code, or `ERR_INTERNAL`. */
export function failureCode(e: unknown): string {
  return isUnseenError(e) ? e.code : 'ERR_INTERNAL';
}
