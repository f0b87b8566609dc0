#!/usr/bin/env node
// The `unseen` command. An installed package runs the built CLI (dist/). In the unseen
// repository (a pnpm workspace with tsx installed) it always runs the TypeScript sources, through
// tsx with the `source` export condition, so that a dist/ left by an earlier build can never run
// instead of the code being edited; the child process gets this process's signals and exit code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const workspace = existsSync(
  fileURLToPath(new URL('../../../pnpm-workspace.yaml', import.meta.url)),
);
let tsx;
try {
  tsx = import.meta.resolve('tsx');
} catch {
  tsx = undefined;
}
if (existsSync(dist) && !(workspace && tsx !== undefined)) {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
} else if (tsx === undefined) {
  console.error('unseen: no build (dist/) and no tsx to run the sources: run `pnpm build` first');
  process.exit(1);
} else {
  const src = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', tsx, src, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
