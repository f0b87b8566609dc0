#!/usr/bin/env node
/**
 * The `unseen` command line: run an exchange, a provider or a consumer from files, manage
 * keys, assets and policies, and verify the ledger.
 * @module
 */
import { isUnseenError } from '@unseen/core';
import { asset, metering, party, policy, receipts } from './admin.js';
import { UsageError } from './args.js';
import { consumer } from './consumer.js';
import { exchange } from './exchange.js';
import { keys } from './keys.js';
import { ledger } from './ledger.js';
import { provider } from './parties.js';

const HELP = `unseen: a data exchange where data is usable but not visible, controllable and measurable

  unseen keys generate --role exchange|provider|consumer|operator --name N --out FILE
  unseen keys public --key FILE
  unseen exchange serve --store FILE|postgres://... --key FILE [--operator PUBFILE]... [--shared] [--host H] [--port P]
      [--max-body BYTES] [--cors-origin ORIGIN]... [--relay-queue BYTES] [--relay-total-queue BYTES]
      [--relay-high-water BYTES] [--relay-stall-timeout DURATION] [--failure-grace DURATION]
  unseen party add|list --url URL --key OPERATOR-KEY [--identity PUBFILE]
  unseen asset register|list --url URL --key PROVIDER-KEY --asset FILE.csv --offer C1,C2 [--classification C]
  unseen policy set|revoke|list --url URL --key KEY --asset ID --consumer KEYID --allow C1,C2 [--budget EPS] [--quota N]
  unseen provider serve --url URL --key PROVIDER-KEY --asset FILE.csv [--asset ...]
  unseen consumer run aggregate --url URL --key CONSUMER-KEY --asset ID [--asset ID2 ...] --op count|sum|mean
      [--column C --lower L --upper U] [--epsilon E] [--protocol secure-aggregation|homomorphic]
  unseen consumer run psi --url URL --key CONSUMER-KEY --asset ID --column C --items FILE [--mode intersection|cardinality|sum] [--value-column V]
  unseen consumer run train --url URL --key CONSUMER-KEY --asset ID --asset ID2 --features c:lo:hi,... --label C[:classes]
      [--rounds 3] [--local-steps 10] [--sampling-rate 0.1] [--lr 0.5] [--clip 1] [--noise 1] [--delta D] [--out model.json]
  unseen receipts|metering --url URL --key KEY
  unseen ledger verify (--db FILE | --url postgres://... | --url URL --key OPERATOR-KEY) [--exchange-key PUBFILE] [--head SEQ:HASH]

Add --json for machine-readable output.`;

async function main(argv: string[]): Promise<number> {
  const [group, cmd, ...rest] = argv;
  switch (group) {
    case 'keys':
      await keys(cmd, rest);
      return 0;
    case 'exchange':
      await exchange(cmd, rest);
      return 0;
    case 'party':
      await party(cmd, rest);
      return 0;
    case 'asset':
      await asset(cmd, rest);
      return 0;
    case 'policy':
      await policy(cmd, rest);
      return 0;
    case 'provider':
      await provider(cmd, rest);
      return 0;
    case 'consumer':
      await consumer(cmd, rest);
      return 0;
    case 'receipts':
      await receipts(cmd === undefined ? rest : [cmd, ...rest]);
      return 0;
    case 'metering':
      await metering(cmd === undefined ? rest : [cmd, ...rest]);
      return 0;
    case 'ledger':
      return ledger(cmd, rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return group === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${group}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`unseen: ${e.message}\n\n${HELP}\n`);
      process.exitCode = 2;
    } else if (isUnseenError(e)) {
      process.stderr.write(`unseen: ${e.code}: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`unseen: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
