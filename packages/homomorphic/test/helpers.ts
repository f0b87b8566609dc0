/** Test helpers shared by the vector-aggregation tests. */
import { isUnseenError } from '@unseen/core';
import { expect } from 'vitest';

/** The `UnseenError` code `f` throws (or rejects with), or 'none'. */
export async function codeOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(isUnseenError(e), String(e)).toBe(true);
    return (e as { code: string }).code;
  }
  return 'none';
}
