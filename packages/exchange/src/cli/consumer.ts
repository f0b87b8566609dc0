/** `unseen consumer run aggregate|psi|train`. @module */
import { readFile, writeFile } from 'node:fs/promises';
import type { ExchangeClient } from '../client.js';
import type { Computation } from '../computations.js';
import { runAsConsumer } from '../job-driver.js';
import { deltaUnits, type PrivacyAmount } from '../policy.js';
import { federatedPrivacy } from '../runners/federated-params.js';
import { connect, num, options, print, progressLine, required, UsageError } from './args.js';
import { describe, installedRunners } from './parties.js';

const USAGE = 'unseen consumer run aggregate|psi|train --url URL --key FILE --asset ID ...';

/** `name:lower:upper,...` into feature specs. */
function parseFeatures(spec: string): { column: string; lower: number; upper: number }[] {
  return spec.split(',').map((part) => {
    const [column, lower, upper] = part.split(':');
    if (column === undefined || lower === undefined || upper === undefined)
      throw new UsageError(`--features: expected name:lower:upper, got ${part}`);
    return {
      column: column.trim(),
      lower: num(lower, 'features')!,
      upper: num(upper, 'features')!,
    };
  });
}

/**
 * The delta a training job states when none is given: the smallest *remaining* budget delta over
 * the consumer's live policies on `assets` (budgets are counted in units of 1e-15; a spend is
 * rounded up, so the value returned never asks for more than what is left), or 1e-5 if no policy
 * has a delta budget.
 */
async function policyDelta(client: ExchangeClient, assets: readonly string[]): Promise<number> {
  const live = (await client.listPolicies()).filter(
    (p) => !p.policy.revoked && assets.includes(p.policy.assetId) && p.policy.budget !== null,
  );
  const left = live
    .map((p) => deltaUnits(p.policy.budget!.delta, 'down') - p.usage.deltaFemtos)
    .filter((f) => f > 0);
  if (left.length === 0) return 1e-5;
  const femtos = Math.min(...left);
  return deltaUnits(femtos / 1e15, 'up') > femtos ? (femtos - 1) / 1e15 : femtos / 1e15;
}

export async function consumer(cmd: string | undefined, argv: string[]): Promise<void> {
  const [kind, ...rest] = argv;
  if (cmd !== 'run' || kind === undefined) throw new UsageError(USAGE);
  const { values } = options(rest, {
    url: { type: 'string' },
    key: { type: 'string' },
    asset: { type: 'string', multiple: true, default: [] },
    op: { type: 'string', default: 'count' },
    column: { type: 'string' },
    lower: { type: 'string' },
    upper: { type: 'string' },
    decimals: { type: 'string' },
    protocol: { type: 'string' },
    epsilon: { type: 'string' },
    delta: { type: 'string' },
    cohort: { type: 'string' },
    mode: { type: 'string', default: 'cardinality' },
    items: { type: 'string' },
    'value-column': { type: 'string' },
    features: { type: 'string' },
    label: { type: 'string' },
    model: { type: 'string' },
    hidden: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    'local-steps': { type: 'string' },
    'sampling-rate': { type: 'string' },
    lr: { type: 'string' },
    clip: { type: 'string' },
    noise: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const runners = installedRunners();
  let computation: Computation;
  const params: Record<string, unknown> = {};
  let input: string[] | undefined;
  const set = (key: string, value: string | undefined, name: string) => {
    if (value !== undefined) params[key] = num(value, name);
  };
  if (kind === 'aggregate') {
    computation = `aggregate.${values.op}` as Computation;
    if (!['count', 'sum', 'mean'].includes(values.op))
      throw new UsageError('--op must be count, sum or mean');
    if (values.column !== undefined) params.column = values.column;
    if (values.protocol !== undefined) params.protocol = values.protocol;
    set('lower', values.lower, 'lower');
    set('upper', values.upper, 'upper');
    set('decimals', values.decimals, 'decimals');
  } else if (kind === 'psi') {
    if (!['intersection', 'cardinality', 'sum'].includes(values.mode))
      throw new UsageError('--mode must be intersection, cardinality or sum');
    computation = `psi.${values.mode}` as Computation;
    params.column = required(values.column, 'column');
    if (values['value-column'] !== undefined) params.valueColumn = values['value-column'];
    const text = await readFile(required(values.items, 'items'), 'utf8');
    input = [
      ...new Set(
        text
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l !== ''),
      ),
    ];
  } else if (kind === 'train') {
    computation = 'federated.train';
    params.features = parseFeatures(required(values.features, 'features'));
    const [label, classes] = required(values.label, 'label').split(':');
    params.label = { column: label, classes: num(classes ?? '2', 'label') };
    if (values.model !== undefined) params.model = values.model;
    set('hidden', values.hidden, 'hidden');
    set('rounds', values.rounds, 'rounds');
    set('localSteps', values['local-steps'], 'local-steps');
    set('samplingRate', values['sampling-rate'], 'sampling-rate');
    set('learningRate', values.lr, 'lr');
    set('clipNorm', values.clip, 'clip');
    set('noiseMultiplier', values.noise, 'noise');
    set('seed', values.seed, 'seed');
  } else throw new UsageError(`unknown job kind ${kind}: aggregate, psi or train`);
  runners.get(computation).validateParams(computation, params, 0);
  if (values.asset.length === 0) throw new UsageError('--asset is required');
  const client = await connect(values.url, values.key);
  let privacy: PrivacyAmount | null = null;
  const epsilon = num(values.epsilon, 'epsilon');
  if (kind === 'train' && params.noiseMultiplier !== 0) {
    // Federated training spends the RDP accounting of its DP-SGD steps at the policy's delta.
    const delta = num(values.delta, 'delta') ?? (await policyDelta(client, values.asset));
    privacy = { epsilon: epsilon ?? federatedPrivacy(params, delta).epsilon, delta };
  } else if (epsilon !== undefined) {
    privacy = { epsilon, delta: num(values.delta, 'delta') ?? 0 };
  }
  const view = await client.requestJob({
    computation,
    assets: values.asset,
    params,
    cohort: input?.length ?? num(values.cohort, 'cohort') ?? 0,
    privacy,
  });
  progressLine(`[job ${view.job.id.slice(0, 8)}] admitted`);
  const { result, receipt } = await runAsConsumer({
    client,
    view,
    runners,
    input,
    onProgress: (p) => progressLine(`[job ${view.job.id.slice(0, 8)}] ${describe(p)}`),
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(result)}\n`);
  const r = receipt.receipt.body;
  const shown = kind === 'train' && values.out !== undefined ? { written: values.out } : result;
  print(
    values.json,
    { jobId: view.job.id, result, receipt },
    `result: ${JSON.stringify(shown)}\nreceipt #${receipt.seq}: ${r.status}, ${r.durationMs} ms, ${r.bytes.relayed} bytes relayed, epsilon ${r.privacy?.epsilon ?? 0}`,
  );
}
