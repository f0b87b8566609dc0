/**
 * What crosses the boundary between the pool and a worker besides arguments: the call outcome
 * envelope (so that errors keep their `code` and `details`, which structured clone drops), and
 * the search for transferable buffers in a result.
 * @module
 */
import { isErrorCode, UnseenError } from '@unseen/core';

/** An error as plain data. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  details?: Record<string, unknown>;
}

/** The outcome of one call in a worker. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: WireError };

/** Turns anything thrown into plain data that structured clone carries intact. */
export function toWireError(e: unknown): WireError {
  if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)) {
    const err = e as Error & { code?: unknown; details?: unknown };
    const out: WireError = {
      name: typeof err.name === 'string' ? err.name : 'Error',
      message: typeof err.message === 'string' ? err.message : describe(err.message),
    };
    if (typeof err.stack === 'string') out.stack = err.stack;
    if (typeof err.code === 'string') out.code = err.code;
    if (typeof err.details === 'object' && err.details !== null) {
      try {
        out.details = structuredClone(err.details) as Record<string, unknown>;
      } catch {
        // Details that cannot be cloned are dropped; the code and message remain.
      }
    }
    return out;
  }
  return { name: 'Error', message: `non-error thrown: ${describe(e)}` };
}

/**
 * `String(v)` that cannot itself throw: objects without a usable `toString` (a null prototype,
 * or a `toString` that is not a function or throws) are named by their type instead.
 */
function describe(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/**
 * Rebuilds an error on the caller's side: an `UnseenError` with the same code and details when
 * the worker threw one, otherwise an `Error` with the original name and message. The worker's
 * stack is appended to the local one so that both sides show in a trace.
 */
export function fromWireError(w: WireError, where: string): Error {
  let error: Error;
  if (w.name === 'UnseenError' && isErrorCode(w.code)) {
    error = new UnseenError(
      w.code,
      w.message,
      w.details === undefined ? {} : { details: w.details },
    );
  } else {
    error = new Error(w.message);
    error.name = w.name;
    if (w.code !== undefined) (error as Error & { code: string }).code = w.code;
  }
  if (w.stack !== undefined)
    error.stack = `${error.stack ?? ''}\n    --- in ${where} ---\n${w.stack}`;
  return error;
}

/**
 * The buffers of a result that can move instead of being copied: every `ArrayBuffer` behind a
 * typed array or DataView that spans the whole buffer, found at the top level or one level down
 * in arrays and plain objects. Views of part of a buffer (Node's pooled `Buffer`s, subarrays of
 * a cache) are copied, so a worker never loses memory it still uses.
 */
export function resultTransferables(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number): void => {
    if (typeof v !== 'object' || v === null) return;
    if (ArrayBuffer.isView(v)) {
      const buf = v.buffer;
      if (buf instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === buf.byteLength) {
        found.add(buf);
      }
      return;
    }
    if (depth >= 2) return;
    if (Array.isArray(v)) {
      for (const item of v) visit(item, depth + 1);
    } else if (Object.getPrototypeOf(v) === Object.prototype) {
      for (const item of Object.values(v)) visit(item, depth + 1);
    }
  };
  visit(value, 0);
  return [...found];
}

/**
 * Structured clone copies the whole buffer behind a view, so a 1 MiB `subarray` of a 64 MiB
 * buffer would send 64 MiB. Views of part of a buffer that is not being transferred are replaced
 * by compact copies (top level, or one level down in arrays and plain objects), so a worker
 * receives only the bytes in view. Returns `args` itself when nothing needed compacting.
 */
export function compactViews(args: unknown[], transfer: readonly Transferable[]): unknown[] {
  const moved = new Set<unknown>(transfer);
  let changed = false;
  const fix = (v: unknown, depth: number): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (ArrayBuffer.isView(v)) {
      const buf = v.buffer;
      if (
        buf instanceof ArrayBuffer &&
        !moved.has(buf) &&
        v.byteLength < buf.byteLength &&
        !(v instanceof DataView)
      ) {
        changed = true;
        return (v as unknown as { slice(): unknown }).slice();
      }
      return v;
    }
    if (depth >= 1) return v;
    if (Array.isArray(v)) {
      const out = v.map((item) => fix(item, depth + 1));
      return out.some((item, i) => item !== v[i]) ? out : v;
    }
    if (Object.getPrototypeOf(v) === Object.prototype) {
      const entries = Object.entries(v);
      const out = entries.map(([k, item]) => [k, fix(item, depth + 1)] as const);
      return out.some(([, item], i) => item !== entries[i]![1]) ? Object.fromEntries(out) : v;
    }
    return v;
  };
  const out = args.map((a) => fix(a, 0));
  return changed ? out : args;
}
