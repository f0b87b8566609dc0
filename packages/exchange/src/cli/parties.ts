/** `unseen provider serve` and `unseen consumer run`. @module */
import { basename, extname } from 'node:path';
import { type LoadedAsset, loadCsvAsset, parseSchemaSpec } from '../asset-file.js';
import { ProviderNode } from '../provider-node.js';
import type { Progress } from '../runner.js';
import { RunnerRegistry } from '../runner.js';
import { aggregateRunner } from '../runners/aggregate-joint.js';
import { federatedRunner } from '../runners/federated.js';
import { psiRunner } from '../runners/psi.js';
import { commitSecretPath } from './admin.js';
import {
  connect,
  loadOrCreateSecret,
  num,
  options,
  print,
  progressLine,
  UsageError,
} from './args.js';

/** The runners this build of the CLI carries. */
export function installedRunners(): RunnerRegistry {
  return new RunnerRegistry([aggregateRunner, psiRunner, federatedRunner]);
}

/** A progress event as one line. */
export function describe(p: Progress): string {
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
