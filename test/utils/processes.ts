/**
 * Child processes for tests that run code as a user would: a TypeScript entry point started with
 * `node --conditions=source --import tsx`, so that every @unseen package loads from its sources
 * without a build. Import it by relative path (`../../../test/utils/processes.js`).
 * @module
 */
import { spawn } from 'node:child_process';

/** tsx resolved from the repository root, so the child finds it whatever its working folder. */
const TSX = import.meta.resolve('tsx');

/** What a finished process printed, and how it ended. */
export interface ScriptRun {
  /** Exit code, or null when a signal ended it (e.g. the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived: what a terminal would show. */
  output: string;
}

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** Working folder of the child (default: this process's). */
  cwd?: string;
  /** Kills the child (SIGKILL) after this many milliseconds (default 120 s). */
  timeoutMs?: number;
}

/**
 * Runs a TypeScript file on sources to its end and collects what it prints. Never rejects: a
 * failing or killed child shows in `code` / `signal`, with its output for the assertion message.
 * @example
 * ```ts
 * const run = await runScript(join(root, 'src/main.ts'), ['--customers', '300'], { cwd: root });
 * expect(run.code, run.output).toBe(0);
 * ```
 */
export function runScript(
  script: string,
  args: readonly string[] = [],
  options: RunScriptOptions = {},
): Promise<ScriptRun> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, script, ...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
    output += chunk;
  });
  child.on('error', (e) => {
    stderr += String(e); // failed to start: 'close' follows
    output += String(e);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output });
    });
  });
}
