/** Test helpers shared by this package's tests (not part of the package). */
import { isUnseenError } from '@unseen/core';

/** The UnseenError code a function throws, `undefined` when it returns, or `foreign: ...`. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isUnseenError(e) ? e.code : `foreign: ${String(e)}`;
  }
  return undefined;
}

/** Same for an async function. */
export async function codeOfAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    return isUnseenError(e) ? e.code : `foreign: ${String(e)}`;
  }
  return undefined;
}

/** Every k-element subset of [0, n). */
export function subsets(n: number, k: number): number[][] {
  const out: number[][] = [];
  const pick: number[] = [];
  const go = (start: number): void => {
    if (pick.length === k) {
      out.push([...pick]);
      return;
    }
    for (let i = start; i < n; i++) {
      pick.push(i);
      go(i + 1);
      pick.pop();
    }
  };
  go(0);
  return out;
}

/**
 * Upper critical value of the chi-square distribution with `df` degrees of freedom at
 * significance `alpha` (Wilson-Hilferty approximation, accurate to well under 1% for df >= 30).
 */
export function chiSquareCritical(df: number, alpha: number): number {
  // z: the standard normal upper quantile, by bisection on the complementary error function.
  const upper = (z: number): number => 0.5 * erfc(z / Math.SQRT2);
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (upper(mid) > alpha) lo = mid;
    else hi = mid;
  }
  const z = (lo + hi) / 2;
  const c = 2 / (9 * df);
  return df * (1 - c + z * Math.sqrt(c)) ** 3;
}

/** Complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
export function chiSquareUniform(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  const expected = total / counts.length;
  let chi = 0;
  for (let i = 0; i < counts.length; i++) chi += (counts[i]! - expected) ** 2 / expected;
  return chi;
}
