/** Real processes for integration tests: the `unseen` CLI run from sources. */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Identity } from '@unseen/exchange';

export const CLI = resolve(fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)));
const TSX = import.meta.resolve('tsx');

export interface CliProcess {
  proc: ChildProcess;
  /** JSON lines printed so far. */
  lines: unknown[];
  stderr: () => string;
  /** Resolves with the first JSON line that matches. */
  waitFor<T>(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `unseen ...args` from sources. */
export function startCli(args: string[], cwd?: string): CliProcess {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: unknown[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: unknown) => void;
  }[] = [];
  let err = '';
  proc.stderr!.on('data', (c) => {
    err += c;
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    lines.push(v);
    for (const w of [...waiters]) {
      if (typeof v === 'object' && v !== null && w.match(v as Record<string, unknown>)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(v);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.on('exit', (code, signal) => r({ code, signal })),
  );
  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    waitFor<T>(match: (l: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<T> {
      const seen = lines.find(
        (l) => typeof l === 'object' && l !== null && match(l as Record<string, unknown>),
      );
      if (seen) return Promise.resolve(seen as T);
      return new Promise<T>((res, rej) => {
        const t = setTimeout(
          () => rej(new Error(`timed out waiting for output; stderr: ${err}`)),
          timeoutMs,
        );
        exited.then(({ code }) =>
          rej(new Error(`process exited (${code}) before the expected output; stderr: ${err}`)),
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(t);
            res(l as T);
          },
        });
      });
    },
  };
}

/** Runs `unseen ...args` to completion. */
export async function runCli(
  args: string[],
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => {
    stdout += c;
  });
  proc.stderr.on('data', (c) => {
    stderr += c;
  });
  const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  return { code, stdout, stderr };
}

/** Writes a key file and its public identity next to it; returns the key file path. */
export function writeKey(dir: string, id: Identity): string {
  const path = join(dir, `${id.name}.key.json`);
  writeFileSync(path, JSON.stringify(id.toKeyFile()), { mode: 0o600 });
  writeFileSync(join(dir, `${id.name}.pub.json`), JSON.stringify(id.public));
  return path;
}

/** Starts an exchange process; resolves once it listens. */
export async function startExchange(
  dir: string,
  operatorPub: string,
  extra: string[] = [],
): Promise<CliProcess & { url: string; keyId: string }> {
  const p = startCli([
    'exchange',
    'serve',
    '--db',
    join(dir, 'exchange.db'),
    '--key',
    join(dir, 'exchange.key.json'),
    '--operator',
    operatorPub,
    '--port',
    '0',
    '--json',
    ...extra,
  ]);
  const line = await p.waitFor<{ listening: string; keyId: string }>(
    (l) => typeof l.listening === 'string',
    60_000,
  );
  return Object.assign(p, { url: line.listening, keyId: line.keyId });
}

/** Stops a process with SIGTERM (or the given signal) and waits for it. */
export async function stop(p: CliProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
  await p.exited;
}
