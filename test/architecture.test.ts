/**
 * The repository's architectural rules from docs/README.md, checked on every run: dependencies
 * point one way, no package reaches into another's sources, randomness never comes from
 * Math.random in library code, and every package is wired the same way.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir).filter((d) =>
  statSync(join(packagesDir, d, 'package.json'), { throwIfNoEntry: false })?.isFile(),
);

/** Which @unseen packages each package may depend on (docs/README.md, "Layout and dependencies"). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  workers: ['core'],
  'secret-sharing': ['core'],
  homomorphic: ['core', 'workers', 'secret-sharing'],
  // psi's sum mode (Private Join and Compute) uses homomorphic's Paillier.
  psi: ['core', 'workers', 'homomorphic'],
  'secure-aggregation': ['core', 'workers', 'secret-sharing'],
  federated: ['core', 'workers', 'secret-sharing', 'secure-aggregation', 'homomorphic'],
  exchange: [
    'core',
    'workers',
    'secret-sharing',
    'psi',
    'homomorphic',
    'secure-aggregation',
    'federated',
  ],
};

interface Manifest {
  name: string;
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as Manifest;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...sourceFiles(p));
    } else if (/\.(ts|mts|mjs|js)$/.test(entry.name)) out.push(p);
  }
  return out;
}

describe('architecture', () => {
  it('knows every package', () => {
    expect(packages.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  for (const dir of packages) {
    it(`${dir}: depends only on the packages below it`, () => {
      const m = manifest(dir);
      expect(m.name).toBe(`@unseen/${dir}`);
      const deps = Object.keys({ ...m.dependencies, ...m.peerDependencies, ...m.devDependencies })
        .filter((d) => d.startsWith('@unseen/'))
        .map((d) => d.slice('@unseen/'.length));
      for (const d of deps) expect(ALLOWED[dir], `${dir} -> ${d}`).toContain(d);
    });

    it(`${dir}: imports other packages by name, never by path into their sources`, () => {
      const offenders: string[] = [];
      for (const file of sourceFiles(join(packagesDir, dir, 'src'))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g)) {
          const spec = m[1] ?? m[2] ?? '';
          if (/(^|\/)packages\//.test(spec) || /^\.\.\/\.\.\/(?!src\b)[^/]+\/src\b/.test(spec)) {
            offenders.push(`${relative(root, file)}: ${spec}`);
          }
        }
      }
      expect(offenders).toEqual([]);
    });

    it(`${dir}: never calls Math.random in library code`, () => {
      const offenders = sourceFiles(join(packagesDir, dir, 'src'))
        .filter((f) => /Math\.random\s*\(/.test(readFileSync(f, 'utf8')))
        .map((f) => relative(root, f));
      expect(offenders).toEqual([]);
    });

    it(`${dir}: is an ESM package with source/types/default exports, a README and a build reference`, () => {
      const m = manifest(dir) as Manifest & { type?: string };
      expect(m.type).toBe('module');
      const main = m.exports?.['.'] as Record<string, unknown> | undefined;
      expect(main).toBeDefined();
      expect(Object.keys(main!)).toEqual(expect.arrayContaining(['source', 'types', 'default']));
      expect(statSync(join(packagesDir, dir, 'README.md')).isFile()).toBe(true);
      const refs = (
        JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as {
          references: { path: string }[];
        }
      ).references.map((r) => r.path);
      expect(refs).toContain(`packages/${dir}`);
    });
  }
});
