/**
 * The server's output step (Bonawitz et al., Figure 4, Round 4, "Server (generating the
 * output)"): reconstruct s_u^SK for every u in U2 \ U3 and recompute its pairwise masks with its
 * surviving neighbours; reconstruct b_u for every u in U3 and recompute p_u; then
 * z = sum_{u in U3} y_u - sum_{u in U3} p_u + sum_{u in U3, v in U2 \ U3} p_{v,u}.
 *
 * Every reconstructed secret is checked, b_u against the commitment u sent with its shares and
 * s_u^SK against the advertised s_u^PK, so that a corrupted share makes the round fail instead of
 * returning a wrong sum. Beyond t shares, corrupted ones are corrected: {@link reconstruct}
 * decodes the shares as a Reed-Solomon code (`reed-solomon.ts`), which locates up to
 * floor((m - t) / 2) wrong shares among m, and with m = t + 1 (one spare, enough to detect but
 * not to locate an error) it leaves each share out in turn.
 * @module
 */
import {
  concatBytes,
  equalBytes,
  type RingBits,
  X25519_BYTES,
  x25519PublicKey,
} from '@unseen/core';
import { shamir } from '@unseen/secret-sharing';
import { pairwiseMaskSeed, selfMaskCommitment, selfMaskSeed } from './derive.js';
import { insufficient, tampered } from './errors.js';
import { agreeMany, type ComputeOptions, combineMasks, type MaskTerm } from './masks.js';
import { correctableShares, decodeShares } from './reed-solomon.js';

export { correctableShares };

/**
 * Reconstructs a secret from m >= t shares, accepting only a value that `check` confirms: first
 * from shares 0..t-1 (all honest: one interpolation), then by error-correcting decoding of all m
 * shares, then (m = t + 1) from each t of them. At most m + 2 candidates are checked and the cost
 * is O(m^2) field operations per secret byte, so one or more corrupted shares, up to
 * {@link correctableShares}, never defeat the reconstruction and never slow it down unboundedly.
 * @returns the secret, or undefined when no candidate checks out (too many corrupted shares)
 */
export async function reconstruct(
  shares: readonly Uint8Array[],
  t: number,
  check: (secret: Uint8Array) => Promise<boolean>,
): Promise<Uint8Array | undefined> {
  const m = shares.length;
  if (m < t) return undefined;
  const attempt = async (secret: Uint8Array | undefined): Promise<Uint8Array | undefined> => {
    if (secret === undefined) return undefined;
    if (await check(secret)) return secret;
    secret.fill(0);
    return undefined;
  };
  const first = await attempt(shamir.combine(shares.slice(0, t)));
  if (first !== undefined || m === t) return first;
  if (m === t + 1) {
    for (let skip = 0; skip < m; skip++) {
      const found = await attempt(shamir.combine(shares.filter((_, i) => i !== skip)));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return attempt(decodeShares(shares, t)?.secret);
}

/** What the server holds when Unmasking closes. */
export interface RecoveryInput {
  bits: RingBits;
  words: number;
  threshold: number;
  session: Uint8Array;
  /** U2 ascending, and whether each is in U3. */
  shared: readonly number[];
  survived(u: number): boolean;
  /** u's neighbours in U3 (itself excluded). */
  neighboursAlive(u: number): number[];
  /** The shares revealed of u's secret. */
  shares(u: number): Uint8Array[];
  commitment(u: number): Uint8Array;
  maskPublicKey(u: number): Uint8Array;
  /** sum_{u in U3} y_u. */
  maskedSum: Uint32Array;
}

/**
 * The sum of the survivors' inputs: the masked sum with every remaining mask removed.
 * @throws UnseenError `ERR_INSUFFICIENT_SHARES`, `ERR_INTEGRITY`
 */
export async function recoverSum(r: RecoveryInput, compute: ComputeOptions): Promise<Uint32Array> {
  const terms: MaskTerm[] = [];
  try {
    for (const u of r.shared) {
      const alive = r.survived(u);
      const neighbours = r.neighboursAlive(u);
      if (!alive && neighbours.length === 0) continue; // its masks are in no input
      const shares = r.shares(u);
      if (shares.length < r.threshold) throw insufficient('unmask', shares.length, r.threshold, u);
      if (alive) {
        const commitment = r.commitment(u);
        const b = await reconstruct(shares, r.threshold, async (secret) =>
          equalBytes(selfMaskCommitment(secret, r.session, u), commitment),
        );
        if (b === undefined) throw tampered(u, 'self-mask seed', shares.length, r.threshold);
        terms.push({ seed: selfMaskSeed(b, r.session, u), sign: -1 });
        b.fill(0);
        continue;
      }
      const sPK = r.maskPublicKey(u);
      const sk = await reconstruct(shares, r.threshold, async (secret) =>
        equalBytes(await x25519PublicKey(secret), sPK),
      );
      if (sk === undefined) throw tampered(u, 'mask key', shares.length, r.threshold);
      const agreed = await agreeMany(sk, concatBytes(...neighbours.map(r.maskPublicKey)), compute);
      sk.fill(0);
      neighbours.forEach((v, i) => {
        const shared = agreed.subarray(X25519_BYTES * i, X25519_BYTES * (i + 1));
        // y_v holds Delta_{v,u} * PRG(s_{v,u}) with Delta_{v,u} = +1 when v > u: take it out.
        terms.push({ seed: pairwiseMaskSeed(shared, r.session, u, v), sign: v > u ? -1 : 1 });
      });
      agreed.fill(0);
    }
    return await combineMasks(r.bits, r.words, terms, r.maskedSum, compute);
  } finally {
    for (const t of terms) t.seed.fill(0);
  }
}
