/**
 * The PSI runner: psi.intersection, psi.cardinality and psi.sum between the consumer (PSI
 * client, its own set as input) and one provider (PSI server over one column of its asset),
 * through @unseen/psi on the job's relay channel. What each side learns is what @unseen/psi
 * states: the consumer the intersection (or its size, or the sum of the provider's values over
 * it), the provider the size of the consumer's set.
 *
 * Policy at the data: the provider refuses a consumer set that differs from the size the job
 * declared or is smaller than the ticket's minCohort, before the server answers (a tiny query
 * set would single out individuals), through @unseen/psi's `minClientItems` / `maxClientItems`. PSI results are exact: a job that spends a privacy budget
 * is refused with `ERR_UNSUPPORTED` rather than charged for noise it does not get.
 *
 * Params: `{ column, valueColumn? (psi.sum), suite? ('x25519' | 'ristretto255') }`.
 * @module
 */
import { UnseenError } from '@unseen/core';
import { PsiServer, runPsiClient, runPsiServer, type SuiteName } from '@unseen/psi';
import { canonicalBytes } from '../canonical.js';
import type { Computation } from '../computations.js';
import {
  assetColumn,
  type ConsumerOutcome,
  type ConsumerRunContext,
  type JobRunner,
  type LocalAsset,
  type ProviderRunContext,
} from '../runner.js';

type Mode = 'intersection' | 'cardinality' | 'sum';

const MODE: Partial<Record<Computation, Mode>> = {
  'psi.intersection': 'intersection',
  'psi.cardinality': 'cardinality',
  'psi.sum': 'sum',
};

const COLUMN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

interface PsiParams {
  mode: Mode;
  column: string;
  valueColumn: string | undefined;
  suite: SuiteName;
}

function parseParams(computation: Computation, params: Record<string, unknown>): PsiParams {
  const mode = MODE[computation];
  if (mode === undefined)
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${computation} is not a PSI computation`);
  if (typeof params.column !== 'string' || !COLUMN.test(params.column)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${computation}: params.column must name the provider's key column`,
    );
  }
  let valueColumn: string | undefined;
  if (mode === 'sum') {
    if (typeof params.valueColumn !== 'string' || !COLUMN.test(params.valueColumn)) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        'psi.sum: params.valueColumn must name an integer column',
      );
    }
    valueColumn = params.valueColumn;
  }
  const suite = params.suite ?? 'x25519';
  if (suite !== 'x25519' && suite !== 'ristretto255') {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'params.suite must be x25519 or ristretto255');
  }
  return { mode, column: params.column, valueColumn, suite };
}

/** PSI servers by asset, column and sizing: a setup is computed once and reused. */
const servers = new WeakMap<LocalAsset, Map<string, Promise<PsiServer<Mode>>>>();

function serverFor(
  asset: LocalAsset,
  p: PsiParams,
  maxClientItems: number,
): Promise<PsiServer<Mode>> {
  const sized = 2 ** Math.ceil(Math.log2(Math.max(1024, maxClientItems)));
  const key = `${p.mode}|${p.column}|${p.valueColumn ?? ''}|${p.suite}|${sized}`;
  let cache = servers.get(asset);
  if (cache === undefined) {
    cache = new Map();
    servers.set(asset, cache);
  }
  let server = cache.get(key);
  if (server === undefined) {
    const k = assetColumn(asset, p.column, ['string', 'integer']);
    const items = asset.rows.map((r) => String(r[k]));
    let values: number[] | undefined;
    if (p.valueColumn !== undefined) {
      const v = assetColumn(asset, p.valueColumn, ['integer']);
      values = asset.rows.map((r) => r[v] as number);
      if (values.some((x) => x < 0))
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `psi.sum: ${p.valueColumn} has negative values`,
        );
    }
    server = PsiServer.create<Mode>({
      items,
      mode: p.mode,
      suite: p.suite,
      maxClientItems: sized,
      ...(values ? { values } : {}),
    });
    server.catch(() => cache.delete(key));
    cache.set(key, server);
  }
  return server;
}

/** The PSI runner (requires `@unseen/psi`). */
export const psiRunner: JobRunner = {
  computations: ['psi.intersection', 'psi.cardinality', 'psi.sum'],

  validateParams(computation, params) {
    parseParams(computation, params);
  },

  async runProvider(ctx: ProviderRunContext) {
    const t = ctx.ticket;
    const p = parseParams(t.computation, t.params);
    if (t.privacy !== null) {
      throw new UnseenError(
        'ERR_UNSUPPORTED',
        'PSI releases exact results: a job that spends a privacy budget cannot run here',
      );
    }
    const asset = ctx.assets[0];
    if (asset === undefined || ctx.assets.length !== 1)
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'a PSI job runs on exactly one asset');
    ctx.progress({ phase: 'setup' });
    const server = await serverFor(asset, p, t.cohort);
    // The consumer's set must have exactly the admitted size, itself at least the minimum
    // cohort: @unseen/psi refuses any other from the request's header, before answering.
    await runPsiServer(ctx.channel(t.consumer), {
      server,
      minClientItems: Math.max(t.cohort, t.minCohort),
      maxClientItems: t.cohort,
      signal: ctx.signal,
      onProgress: (x) => ctx.progress({ phase: x.phase, done: x.done, total: x.total }),
    });
    return { records: asset.rows.length };
  },

  async runConsumer(ctx: ConsumerRunContext): Promise<ConsumerOutcome> {
    const t = ctx.ticket;
    const p = parseParams(t.computation, t.params);
    const items = ctx.input;
    if (!Array.isArray(items) || !items.every((x) => typeof x === 'string')) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'PSI input: expected an array of strings');
    }
    if (new Set(items).size !== t.cohort) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `PSI input: ${new Set(items).size} distinct elements, the job declared ${t.cohort}`,
      );
    }
    const provider = t.assets[0]!.provider;
    const r = (await runPsiClient(ctx.channel(provider), {
      items: items as string[],
      mode: p.mode,
      suite: p.suite,
      signal: ctx.signal,
      onProgress: (x) => ctx.progress({ phase: x.phase, done: x.done, total: x.total }),
    })) as { intersection?: string[]; cardinality?: number; sum?: bigint };
    const result =
      p.mode === 'intersection'
        ? { computation: t.computation, intersection: r.intersection! }
        : p.mode === 'cardinality'
          ? { computation: t.computation, cardinality: r.cardinality! }
          : { computation: t.computation, cardinality: r.cardinality!, sum: r.sum!.toString() };
    return { result, resultBytes: canonicalBytes(result) };
  },
};
