/**
 * `pnpm bench [suite ...] [--full]`: runs the named suites (all by default) at quick sizes, or
 * large ones with `--full`, writes `bench/results/<suite>.json` and regenerates
 * `bench/results/README.md` from every JSON result present.
 * @module
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderSuite, runSuite, type Suite, type SuiteResult } from './harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suitesDir = join(root, 'suites');
const resultsDir = join(root, 'results');

async function availableSuites(): Promise<string[]> {
  return (await readdir(suitesDir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function writeReadme(): Promise<void> {
  const files = (await readdir(resultsDir)).filter((f) => f.endsWith('.json')).sort();
  const parts = [
    '# Benchmark results',
    '',
    'Written by `pnpm bench` (quick sizes) or `pnpm bench <suite> --full`; regenerated from the JSON',
    'files in this folder. Each table runs unseen, its peers and a plain baseline in the same process.',
    '"vs unseen" compares mean time per operation with the fastest unseen task of the table.',
    '',
  ];
  for (const f of files) {
    const r = JSON.parse(await readFile(join(resultsDir, f), 'utf8')) as SuiteResult;
    parts.push(renderSuite(r));
  }
  await writeFile(join(resultsDir, 'README.md'), `${parts.join('\n').trimEnd()}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const full = args.includes('--full');
  const named = args.filter((a) => !a.startsWith('--'));
  const known = await availableSuites();
  const unknown = named.filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown suite(s): ${unknown.join(', ')}; available: ${known.join(', ')}\n`,
    );
    process.exit(2);
  }
  const selected = named.length > 0 ? named : known;
  await mkdir(resultsDir, { recursive: true });
  for (const name of selected) {
    const mod = (await import(pathToFileURL(join(suitesDir, `${name}.ts`)).href)) as {
      default: Suite;
    };
    process.stderr.write(`\n▶ ${name} (${full ? 'full' : 'quick'} sizes)\n`);
    const result = await runSuite(mod.default, full, (m) => process.stderr.write(`  ${m}\n`));
    await writeFile(join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${renderSuite(result)}\n`);
  }
  await writeReadme();
  process.stderr.write(
    `\nwrote ${join('bench', 'results')}/{${selected.join(',')}}.json and README.md\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
