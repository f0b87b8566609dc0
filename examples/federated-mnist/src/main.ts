/**
 * Federated MNIST: 20 clients, each with its own slice of the 10,000 digits of the `mnist`
 * package, train one model with FedAvg. The same run is made with plain aggregation, with
 * secure aggregation (the server sees only the sum of the updates) and with client-level
 * differential privacy (clipping and noise added by the clients under secure aggregation), and
 * optionally with non-IID splits. Accuracy per round is printed; a plot (SVG) and the logs
 * (CSV, JSON) are written to `out/`.
 *
 *   pnpm --filter @unseen/example-federated-mnist start [--model mlp] [--rounds 20] [--non-iid]
 *   [--homomorphic] [--quick] [--out DIR]
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plotAccuracy, type RoundLog } from '@unseen/federated';
import { EXPERIMENTS, type Experiment, type ModelName, runExperiment } from './experiments.js';
import { mnistSplit } from './mnist.js';

export interface MainOptions {
  model?: ModelName;
  rounds?: number;
  nonIid?: boolean;
  homomorphic?: boolean;
  /** A small slice of the data and few rounds, for tests. */
  quick?: boolean;
  out?: string;
  print?: (line: string) => void;
}

export interface MainResult {
  runs: { name: string; log: RoundLog[]; finalAccuracy: number; epsilon?: number }[];
  svgPath: string;
}

export async function main(options: MainOptions = {}): Promise<MainResult> {
  const print = options.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const model = options.model ?? 'softmax';
  const quick = options.quick ?? false;
  const rounds = options.rounds ?? (quick ? 2 : 20);
  const { train, test } = await mnistSplit(quick ? { testSize: 300, trainSize: 1000 } : {});
  print(
    `MNIST: ${train.count} training digits over 20 clients, ${test.count} test digits; model ${model}`,
  );
  const chosen: Experiment[] = [EXPERIMENTS.plain!, EXPERIMENTS.secure!, EXPERIMENTS.dp!];
  if (options.homomorphic) chosen.push(EXPERIMENTS.homomorphic!);
  if (options.nonIid) chosen.push(EXPERIMENTS.dirichlet!, EXPERIMENTS.shards!);
  const runs: MainResult['runs'] = [];
  for (const e of chosen) {
    print(`\n${e.name}`);
    const r = await runExperiment(e, {
      model,
      train,
      test,
      rounds,
      onRound: (row) =>
        print(
          `  round ${String(row.round).padStart(2)}  accuracy ${((row.accuracy ?? 0) * 100).toFixed(2)}%` +
            `  ${row.contributors}/${row.sampled} clients  ${row.fitMs.toFixed(0)} ms` +
            (row.epsilon === undefined
              ? ''
              : `  epsilon ${row.epsilon.toFixed(2)} (delta ${row.delta})`) +
            (row.clippedValues ? `  clipped ${row.clippedValues}` : ''),
        ),
    });
    const last = r.log.at(-1);
    runs.push({
      name: e.name,
      log: r.log,
      finalAccuracy: r.finalAccuracy ?? 0,
      ...(last?.epsilon === undefined ? {} : { epsilon: last.epsilon }),
    });
  }
  const out = options.out ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'out');
  mkdirSync(out, { recursive: true });
  const svg = plotAccuracy(
    runs.map((r) => ({
      name: r.name,
      points: r.log.map((x) => [x.round, x.accuracy ?? 0] as const),
    })),
    { title: `FedAvg on MNIST, 20 clients, ${model}` },
  );
  const svgPath = join(out, `accuracy-${model}.svg`);
  writeFileSync(svgPath, svg);
  writeFileSync(join(out, `runs-${model}.json`), `${JSON.stringify(runs, null, 2)}\n`);
  print('\nsummary');
  for (const r of runs) {
    print(
      `  ${r.name.padEnd(30)} ${(r.finalAccuracy * 100).toFixed(2)}%` +
        (r.epsilon === undefined ? '' : `  (epsilon ${r.epsilon.toFixed(2)} at delta 1e-5)`),
    );
  }
  print(`\nplot: ${svgPath}`);
  return { runs, svgPath };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const model = (value('--model') ?? 'softmax') as ModelName;
  if (model !== 'softmax' && model !== 'mlp') {
    process.stderr.write('--model must be softmax or mlp\n');
    process.exit(2);
  }
  const rounds = value('--rounds');
  const out = value('--out');
  await main({
    model,
    ...(rounds === undefined ? {} : { rounds: Number(rounds) }),
    nonIid: args.includes('--non-iid'),
    homomorphic: args.includes('--homomorphic'),
    quick: args.includes('--quick'),
    ...(out === undefined ? {} : { out }),
  });
}
