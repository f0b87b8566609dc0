/**
 * Shared pieces of the `unseen` CLI: option parsing, key and file helpers, output.
 * @module
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { bytesToHex, hexToBytes, randomBytes, UnseenError } from '@unseen/core';
import { ExchangeClient } from '../client.js';
import { Identity, type PublicIdentity, parsePublicIdentity } from '../identity.js';

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

/** Parses options strictly; unknown options are usage errors. */
export function options<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  spec: T,
): ReturnType<
  typeof parseArgs<{ options: T; args: string[]; allowPositionals: true; strict: true }>
> {
  try {
    return parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The value of a required option. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/** Reads a key file (secret). */
export async function loadIdentity(path: string): Promise<Identity> {
  return Identity.fromKeyFile(JSON.parse(await readFile(path, 'utf8')));
}

/** Writes a key file readable by its owner only. */
export async function saveIdentity(path: string, identity: Identity): Promise<void> {
  await writeFile(path, `${JSON.stringify(identity.toKeyFile(), null, 2)}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  await chmod(path, 0o600);
}

/** Reads a public identity file, or the public part of a key file. */
export async function loadPublicIdentity(path: string): Promise<PublicIdentity> {
  const v = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  return parsePublicIdentity({ publicKey: v.publicKey, role: v.role, name: v.name });
}

/** Reads (or creates) a 32-byte secret kept in a file as hex. */
export async function loadOrCreateSecret(path: string): Promise<Uint8Array> {
  try {
    const hex = (await readFile(path, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(hex))
      throw new UnseenError('ERR_INVALID_ARGUMENT', `${path}: expected 64 hex characters`);
    return hexToBytes(hex);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
    const secret = randomBytes(32);
    await writeFile(path, `${bytesToHex(secret)}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

/** A client for `--url` signed with `--key`. */
export async function connect(
  url: string | undefined,
  keyPath: string | undefined,
): Promise<ExchangeClient> {
  return ExchangeClient.connect(required(url, 'url'), await loadIdentity(required(keyPath, 'key')));
}

/** Parses durations like `30d`, `12h`, `15m`, `90s`, `500ms`. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new UsageError(`expected a duration like 30d, 12h, 15m, 90s or 500ms, got ${text}`);
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

/** Parses a number option. */
export function num(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name}: expected a number, got ${text}`);
  return n;
}

/** Prints a value: JSON with --json, else the given text. */
export function print(json: boolean, value: unknown, text?: string): void {
  process.stdout.write(json || text === undefined ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

/** A progress line on stderr (rewritten in place on a terminal). */
export function progressLine(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}
