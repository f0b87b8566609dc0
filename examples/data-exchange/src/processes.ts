/**
 * The demo's processes and output: starting each party as its own Node process (TypeScript
 * sources through tsx), reading their lines, printing them as `[party] text`, and stopping or
 * killing them all.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ProviderEvent } from '@unseen/exchange';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../../..');
export const CLI = join(ROOT, 'packages/exchange/src/cli/main.ts');
export const CONSUMER = join(here, 'consumer.ts');
const TSX = import.meta.resolve('tsx');

const children: ChildProcess[] = [];

/** Prints a line as `[who]` (the party speaking). */
export function say(who: string, text: string): void {
  process.stdout.write(`${`[${who}]`.padEnd(11)}${text}\n`);
}

export function heading(text: string): void {
  process.stdout.write(`\n${text}\n`);
}

/** Starts a TypeScript entry in its own Node process (sources, through tsx). */
export function node(script: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (c) => {
    err += c;
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null && !stopping) {
      process.stderr.write(`${script} ${args[0] ?? ''} exited with ${code}\n${err}`);
      fail(new Error(`a process exited with ${code}`));
    }
  });
  return child;
}

/** Resolves with the first stdout line (JSON) that `match` accepts. */
export function firstLine<T>(
  child: ChildProcess,
  match: (v: Record<string, unknown>) => boolean,
): Promise<T> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      try {
        const v = JSON.parse(line) as Record<string, unknown>;
        if (match(v)) {
          rl.close();
          resolve(v as T);
        }
      } catch {}
    });
  });
}

let stopping = false;
/** Stops the processes, the exchange last (the providers poll it until they stop). */
export async function stopAll(exchange: ChildProcess): Promise<void> {
  stopping = true;
  const stop = (c: ChildProcess) =>
    new Promise<void>((r) => {
      if (c.exitCode !== null || c.signalCode !== null) return r();
      c.once('exit', () => r());
      c.kill('SIGTERM');
    });
  await Promise.all(children.filter((c) => c !== exchange).map(stop));
  await stop(exchange);
}

let dir = '';
/** The folder to remove when the demo fails. */
export function useTempDir(path: string): void {
  dir = path;
}

/** Kills every process, removes the temp folder and exits 1. */
export function fail(e: unknown): never {
  process.stderr.write(`demo failed: ${(e as Error)?.message ?? e}\n`);
  for (const c of children) c.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}

/** A provider's process events as progress lines. */
export function relayProvider(who: string, child: ChildProcess): void {
  const rl = createInterface({ input: child.stdout! });
  const rounds = new Map<string, number>();
  rl.on('line', (line) => {
    let e: ProviderEvent;
    try {
      e = JSON.parse(line) as ProviderEvent;
    } catch {
      return;
    }
    if (e.type === 'job-started')
      say(who, `job ${e.jobId.slice(0, 8)}: ${e.computation} started on my data`);
    else if (e.type === 'job-ended')
      say(who, `job ${e.jobId.slice(0, 8)}: ${e.status}${e.error ? ` (${e.error})` : ''}`);
    else if (e.type === 'progress' && e.progress.phase === 'training') {
      const done = e.progress.done ?? 0;
      if ((rounds.get(e.jobId) ?? -1) < done && done < (e.progress.total ?? 0)) {
        rounds.set(e.jobId, done);
        say(
          who,
          `job ${e.jobId.slice(0, 8)}: training round ${done + 1}/${e.progress.total} locally (DP-SGD)`,
        );
      }
    } else if (e.type === 'error' && !stopping) say(who, `error: ${e.message}`);
  });
}

/** Lines of the consumer: RESULT lines are collected, the others shown. */
export function relayConsumer(child: ChildProcess): Map<string, string> {
  const results = new Map<string, string>();
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    const m = /^RESULT (\S+) (.*)$/.exec(line);
    if (m) results.set(m[1]!, m[2]!);
    else if (line === '') process.stdout.write('\n');
    else if (/^[0-9]\. /.test(line)) process.stdout.write(`${line}\n`);
    else say('shop', line);
  });
  return results;
}
