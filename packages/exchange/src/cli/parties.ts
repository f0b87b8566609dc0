/** `unseen provider serve` and `unseen consumer run`. @module */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { type LoadedAsset, loadCsvAsset, parseSchemaSpec } from '../asset-file.js';
import type { Computation } from '../computations.js';
import { runAsConsumer } from '../job-driver.js';
import { ProviderNode } from '../provider-node.js';
import type { Progress } from '../runner.js';
import { RunnerRegistry } from '../runner.js';
import { localAggregateRunner } from '../runners/aggregate.js';
import { psiRunner } from '../runners/psi.js';
import { commitSecretPath } from './admin.js';
import {
  connect,
  loadOrCreateSecret,
  num,
  options,
  print,
  progressLine,
  required,
  UsageError,
} from './args.js';

/** The runners this build of the CLI carries. */
export function installedRunners(): RunnerRegistry {
  return new RunnerRegistry([localAggregateRunner, psiRunner]);
}

function describe(p: Progress): string {
  return p.total === undefined ? p.phase : `${p.phase} ${p.done ?? 0}/${p.total}`;
}

export async function provider(cmd: string | undefined, argv: string[]): Promise<void> {
  if (cmd !== 'serve')
    throw new UsageError(
      'unseen provider serve --url URL --key FILE --asset FILE.csv [--asset ...] [--schema n:type,...]',
    );
  const { values } = options(argv, {
    url: { type: 'string' },
    key: { type: 'string' },
    asset: { type: 'string', multiple: true, default: [] },
    schema: { type: 'string' },
    poll: { type: 'string', default: '250' },
    json: { type: 'boolean', default: false },
  });
  if (values.asset.length === 0) throw new UsageError('--asset is required');
  const client = await connect(values.url, values.key);
  const secret = await loadOrCreateSecret(commitSecretPath(values.key!));
  const assets: LoadedAsset[] = [];
  for (const file of values.asset) {
    const id = basename(file, extname(file));
    assets.push(
      await loadCsvAsset(file, {
        id,
        commitSecret: secret,
        ...(values.schema ? { schema: parseSchemaSpec(values.schema) } : {}),
      }),
    );
  }
  const node = new ProviderNode({
    client,
    assets,
    runners: installedRunners(),
    pollIntervalMs: num(values.poll, 'poll')!,
    onEvent: (e) => {
      if (values.json) print(true, e);
      else if (e.type === 'progress')
        progressLine(`[job ${e.jobId.slice(0, 8)}] ${describe(e.progress)}`);
      else if (e.type === 'job-started')
        print(false, e, `[job ${e.jobId.slice(0, 8)}] ${e.computation} started`);
      else if (e.type === 'job-ended')
        print(
          false,
          e,
          `[job ${e.jobId.slice(0, 8)}] ${e.status}${e.error ? ` (${e.error})` : ''}`,
        );
      else print(false, e, `error: ${e.message}`);
    },
  }).start();
  print(
    values.json,
    { serving: assets.map((a) => ({ id: a.id, rows: a.commitment.rows, root: a.root })) },
    `provider ${client.identity.keyId} serving ${assets.map((a) => a.id).join(', ')}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await node.stop();
}

export async function consumer(cmd: string | undefined, argv: string[]): Promise<void> {
  const [kind, ...rest] = argv;
  if (cmd !== 'run' || kind === undefined) {
    throw new UsageError(
      'unseen consumer run aggregate|psi|train --url URL --key FILE --asset ID ...',
    );
  }
  const { values } = options(rest, {
    url: { type: 'string' },
    key: { type: 'string' },
    asset: { type: 'string', multiple: true, default: [] },
    op: { type: 'string', default: 'count' },
    column: { type: 'string' },
    lower: { type: 'string' },
    upper: { type: 'string' },
    decimals: { type: 'string' },
    epsilon: { type: 'string' },
    delta: { type: 'string', default: '0' },
    cohort: { type: 'string' },
    mode: { type: 'string', default: 'cardinality' },
    items: { type: 'string' },
    'value-column': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const runners = installedRunners();
  let computation: Computation;
  const params: Record<string, unknown> = {};
  let input: string[] | undefined;
  if (kind === 'aggregate') {
    computation = `aggregate.${values.op}` as Computation;
    if (!['count', 'sum', 'mean'].includes(values.op))
      throw new UsageError('--op must be count, sum or mean');
    if (values.column !== undefined) params.column = values.column;
    if (values.lower !== undefined) params.lower = num(values.lower, 'lower');
    if (values.upper !== undefined) params.upper = num(values.upper, 'upper');
    if (values.decimals !== undefined) params.decimals = num(values.decimals, 'decimals');
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
  } else if (kind === 'train') computation = 'federated.train';
  else throw new UsageError(`unknown job kind ${kind}: aggregate, psi or train`);
  runners.get(computation).validateParams(computation, params, 0);
  if (values.asset.length === 0) throw new UsageError('--asset is required');
  const client = await connect(values.url, values.key);
  const epsilon = num(values.epsilon, 'epsilon');
  const view = await client.requestJob({
    computation,
    assets: values.asset,
    params,
    cohort: input?.length ?? num(values.cohort, 'cohort') ?? 0,
    privacy: epsilon === undefined ? null : { epsilon, delta: num(values.delta, 'delta')! },
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
  const r = receipt.receipt.body;
  print(
    values.json,
    { jobId: view.job.id, result, receipt },
    `result: ${JSON.stringify(result)}\nreceipt #${receipt.seq}: ${r.status}, ${r.durationMs} ms, ${r.bytes.relayed} bytes relayed, epsilon ${r.privacy?.epsilon ?? 0}`,
  );
}
