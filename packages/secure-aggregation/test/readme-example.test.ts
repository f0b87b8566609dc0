import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from '../../../test/utils/processes.js';

const example = fileURLToPath(new URL('../example/quickstart.ts', import.meta.url));

describe('README example', () => {
  it('runs as documented and prints what the README says', async () => {
    const { code, stdout, output } = await runScript(example, [], { timeoutMs: 60_000 });
    expect(code, output).toBe(0);
    expect(stdout.trim().split('\n')).toEqual([
      'survivors: 18, total weight: 1976',
      'weighted mean[0] matches: true',
      'sum: 1111, 2222, 3333; survivors: 0, 1, 2, 3',
      'two of four dropped: ERR_INSUFFICIENT_SHARES',
      'over channels: 1111, 2222, 3333',
    ]);
  }, 90_000);

  it('the README shows the example file as it is', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const code = await readFile(new URL('../example/quickstart.ts', import.meta.url), 'utf8');
    const norm = (s: string) =>
      s
        .replace(/\/\/.*$/gm, '')
        .replace(/\s+/g, '')
        .replace(/,([)\]}])/g, '$1');
    expect(norm(readme)).toContain(norm(code));
  });
});
