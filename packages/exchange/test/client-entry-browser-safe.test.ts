/**
 * `@unseen/exchange/client` bundles for the browser: esbuild, with `platform: 'browser'` and
 * nothing marked external, resolves its whole module graph, and the graph holds none of the
 * service's Node-only modules (pg, ws, better-sqlite3, node:sqlite, node:fs, node:net,
 * node:http, ...) nor the service's own files. The main entry, which has them, fails the
 * same build: the check can tell.
 */
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Bundles `import * from <specifier>` as a browser app would (with the `source` condition). */
async function bundle(specifier: string) {
  return build({
    stdin: {
      contents: `export * from '${specifier}';`,
      resolveDir: HERE,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

const NODE_ONLY = [
  /(^|\/)node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?(pg|pg-[a-z-]+|pgpass|ws|better-sqlite3|bindings|file-uri-to-path)\//,
  /^node:/,
  /^(fs|net|http|https|tls|dns|stream|crypto|child_process|worker_threads|sqlite)$/,
];
/** The service side of the package, which the client entry must not pull in. */
const SERVICE_FILES =
  /packages\/exchange\/src\/(exchange|service|node-http|relay-server|store|store-[a-z]+|sqlite-driver|audit|asset-file|provider-node|cli\/[a-z]+)\.ts$/;

function modules(meta: Metafile): string[] {
  return Object.keys(meta.inputs);
}

describe('@unseen/exchange/client in a browser bundle', () => {
  it('resolves with nothing external and no Node-only module in its graph', async () => {
    const result = await bundle('@unseen/exchange/client');
    expect(result.errors).toEqual([]);
    const inputs = modules(result.metafile);
    expect(inputs.some((i) => i.endsWith('packages/exchange/src/client-entry.ts'))).toBe(true);
    expect(inputs.some((i) => i.endsWith('packages/exchange/src/relay-client.ts'))).toBe(true);
    expect(inputs.some((i) => i.endsWith('packages/exchange/src/client.ts'))).toBe(true);
    for (const i of inputs) {
      for (const re of NODE_ONLY) expect(i, `${i} is Node-only`).not.toMatch(re);
      expect(i, `${i} is the service's`).not.toMatch(SERVICE_FILES);
    }
    // Nothing was left for the platform to provide.
    for (const out of Object.values(result.metafile.outputs)) expect(out.imports).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["'](ws|pg|better-sqlite3|node:[a-z:]+)["']/);
    expect(code).not.toMatch(/import\(\s*["'](ws|node:[a-z:]+)["']\s*\)/);
  });

  it('the main entry does not bundle for the browser (so the check above can fail)', async () => {
    const failure = await bundle('@unseen/exchange').then(
      () => undefined,
      (e: { errors?: { text: string; location: { file: string } | null }[] }) =>
        e.errors?.map((x) => `${x.text} @ ${x.location?.file}`).join('\n'),
    );
    expect(failure).toMatch(/Could not resolve "net" @ .*node_modules\/pg\//);
    expect(failure).toMatch(
      /Could not resolve "node:http" @ packages\/exchange\/src\/node-http\.ts/,
    );
  });
});
