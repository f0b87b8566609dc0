/** Test helpers: random sets with a chosen overlap, and the plain (no privacy) answers. */
import { createPool, type Pool } from '@unseen/workers';
import { afterAll } from 'vitest';

/** A worker pool shared by a test file, closed after it. */
export function testPool(size = 2): Pool {
  const pool = createPool({ size });
  afterAll(() => pool.close());
  return pool;
}

let counter = 0;
/** `n` distinct random strings (test data: Math.random is fine here). */
export function randomStrings(n: number, prefix = 'id'): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push(`${prefix}-${counter++}-${Math.random().toString(36).slice(2)}`);
  return out;
}

/** Client and server sets of the given sizes sharing `shared` elements, shuffled. */
export function overlapping(
  serverSize: number,
  clientSize: number,
  shared: number,
): { server: string[]; client: string[] } {
  const common = randomStrings(shared, 'c');
  const server = [...common, ...randomStrings(serverSize - shared, 's')];
  const client = [...common, ...randomStrings(clientSize - shared, 'k')];
  return { server: shuffled(server), client: shuffled(client) };
}

export function shuffled<T>(a: T[]): T[] {
  const b = a.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [b[i], b[j]] = [b[j]!, b[i]!];
  }
  return b;
}

const enc = new TextEncoder();
/** An equality key over the UTF-8 bytes of a string or the bytes themselves. */
export function keyOf(x: string | Uint8Array): string {
  const b = typeof x === 'string' ? enc.encode(x) : x;
  return Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
}

/** The plain intersection: the client's first occurrences that the server holds, in client order. */
export function plainIntersection<T extends string | Uint8Array>(
  server: readonly (string | Uint8Array)[],
  client: readonly T[],
): T[] {
  const s = new Set(server.map(keyOf));
  const seen = new Set<string>();
  const out: T[] = [];
  for (const c of client) {
    const k = keyOf(c);
    if (seen.has(k)) continue;
    seen.add(k);
    if (s.has(k)) out.push(c);
  }
  return out;
}
