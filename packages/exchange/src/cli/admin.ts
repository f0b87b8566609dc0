/** `unseen party|asset|policy|receipts|metering ...`: signed API calls from the command line. @module */
import { basename, extname } from 'node:path';
import type { Classification } from '../asset.js';
import { loadCsvAsset, parseSchemaSpec } from '../asset-file.js';
import { acomputations } from '../computations.js';
import { akeyId } from '../identity.js';
import {
  connect,
  loadOrCreateSecret,
  loadPublicIdentity,
  num,
  options,
  parseDuration,
  print,
  required,
  UsageError,
} from './args.js';

const common = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function party(cmd: string | undefined, argv: string[]): Promise<void> {
  const { values } = options(argv, { ...common, identity: { type: 'string' } });
  const client = await connect(values.url, values.key);
  if (cmd === 'add') {
    const p = await client.registerParty(
      await loadPublicIdentity(required(values.identity, 'identity')),
    );
    print(values.json, p, `registered ${p.role} ${p.name} (${p.keyId})`);
  } else if (cmd === 'list') {
    const ps = await client.listParties();
    print(values.json, ps, ps.map((p) => `${p.keyId}  ${p.role.padEnd(9)} ${p.name}`).join('\n'));
  } else
    throw new UsageError(
      'unseen party add --identity FILE | unseen party list (with --url, --key)',
    );
}

/** The default commit secret file of a key file. */
export function commitSecretPath(keyPath: string): string {
  return `${keyPath}.commit-secret`;
}

export async function asset(cmd: string | undefined, argv: string[]): Promise<void> {
  const { values } = options(argv, {
    ...common,
    asset: { type: 'string' },
    id: { type: 'string' },
    title: { type: 'string' },
    schema: { type: 'string' },
    classification: { type: 'string', default: 'general' },
    offer: { type: 'string' },
  });
  const client = await connect(values.url, values.key);
  if (cmd === 'register') {
    const file = required(values.asset, 'asset');
    const id = values.id ?? basename(file, extname(file));
    const secret = await loadOrCreateSecret(commitSecretPath(values.key!));
    const loaded = await loadCsvAsset(file, {
      id,
      commitSecret: secret,
      ...(values.schema ? { schema: parseSchemaSpec(values.schema) } : {}),
    });
    const a = await client.registerAsset({
      id,
      title: values.title ?? id,
      schema: loaded.schema,
      classification: values.classification as Classification,
      commitment: loaded.commitment,
      computations: acomputations(required(values.offer, 'offer').split(','), '--offer'),
    });
    print(
      values.json,
      a,
      `registered asset ${a.id}: ${a.commitment.rows} rows, root ${a.commitment.root}`,
    );
  } else if (cmd === 'list') {
    const as = await client.listAssets();
    print(
      values.json,
      as,
      as
        .map(
          (a) =>
            `${a.id}  ${a.classification.padEnd(9)} rows=${a.commitment.rows} offers=${a.computations.join(',')}`,
        )
        .join('\n'),
    );
  } else
    throw new UsageError(
      'unseen asset register --asset FILE.csv --offer C1,C2 [--id ID] [--schema n:type,...] [--classification general|important|core] | unseen asset list',
    );
}

export async function policy(cmd: string | undefined, argv: string[]): Promise<void> {
  const { values } = options(argv, {
    ...common,
    asset: { type: 'string' },
    consumer: { type: 'string' },
    allow: { type: 'string' },
    'min-cohort': { type: 'string', default: '1' },
    budget: { type: 'string' },
    delta: { type: 'string', default: '0' },
    'max-epsilon-per-job': { type: 'string' },
    quota: { type: 'string' },
    expires: { type: 'string', default: '30d' },
    id: { type: 'string' },
  });
  const client = await connect(values.url, values.key);
  if (cmd === 'set') {
    const consumerArg = required(values.consumer, 'consumer');
    const consumer = /^[0-9a-f]{32}$/.test(consumerArg)
      ? akeyId(consumerArg)
      : (await loadPublicIdentity(consumerArg)).keyId;
    const budget = num(values.budget, 'budget');
    const p = await client.setPolicy({
      assetId: required(values.asset, 'asset'),
      consumer,
      computations: acomputations(required(values.allow, 'allow').split(','), '--allow'),
      minCohort: num(values['min-cohort'], 'min-cohort')!,
      budget: budget === undefined ? null : { epsilon: budget, delta: num(values.delta, 'delta')! },
      maxEpsilonPerJob: num(values['max-epsilon-per-job'], 'max-epsilon-per-job') ?? null,
      quota: num(values.quota, 'quota') ?? null,
      expiresAt: Date.now() + parseDuration(values.expires),
    });
    print(
      values.json,
      p,
      `policy ${p.id}: ${p.computations.join(',')} on ${p.assetId} for ${p.consumer}`,
    );
  } else if (cmd === 'revoke') {
    const p = await client.revokePolicy(required(values.id, 'id'));
    print(values.json, p, `revoked policy ${p.id}`);
  } else if (cmd === 'list') {
    const ps = await client.listPolicies();
    print(
      values.json,
      ps,
      ps
        .map(
          ({ policy: p, usage: u }) =>
            `${p.id} ${p.revoked ? 'revoked' : 'live   '} ${p.assetId} -> ${p.consumer} jobs=${u.jobs}/${p.quota ?? 'inf'} eps=${u.epsilonMicros / 1e6}/${p.budget?.epsilon ?? 'none'}`,
        )
        .join('\n'),
    );
  } else
    throw new UsageError(
      'unseen policy set --asset ID --consumer KEYID|FILE --allow C1,C2 [--min-cohort N] [--budget EPS] [--delta D] [--quota N] [--expires 30d] | revoke --id ID | list',
    );
}

export async function receipts(argv: string[]): Promise<void> {
  const { values } = options(argv, { ...common });
  const client = await connect(values.url, values.key);
  const rs = await client.listReceipts();
  print(
    values.json,
    rs,
    rs
      .map((e) => {
        const r = e.receipt.body;
        return `#${e.seq} ${r.jobId} ${r.computation} ${r.status} ${r.durationMs} ms ${r.bytes.relayed} B eps=${r.privacy?.epsilon ?? 0}`;
      })
      .join('\n'),
  );
}

export async function metering(argv: string[]): Promise<void> {
  const { values } = options(argv, { ...common });
  const client = await connect(values.url, values.key);
  const rows = await client.metering();
  print(
    values.json,
    rows,
    rows
      .map(
        (r) =>
          `${r.consumer} jobs=${r.jobs} finished=${r.finished} failed=${r.failed} denied=${r.denied} bytes=${r.bytes} eps=${r.epsilonSpent}`,
      )
      .join('\n'),
  );
}
