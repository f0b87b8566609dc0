/**
 * The errors this package raises beyond decoding: below the threshold, a refusal by a client,
 * a parameter disagreement and a corrupted secret. One builder each, so that every party reports
 * the same condition with the same code and details.
 * @module
 */
import { UnseenError } from '@unseen/core';
import type { SecAggRound } from './params.js';
import { correctableShares } from './reed-solomon.js';

/**
 * Fewer than t clients remain where t are needed: `ERR_INSUFFICIENT_SHARES` with
 * `{ round, remaining, threshold, client? }` (client: whose group fell short).
 */
export function insufficient(
  round: SecAggRound,
  remaining: number,
  threshold: number,
  client?: number,
): UnseenError {
  const who = client === undefined ? '' : ` in the group of client ${client}`;
  return new UnseenError(
    'ERR_INSUFFICIENT_SHARES',
    `secure aggregation aborted in ${round}: ${remaining} clients remain${who}, the threshold is ${threshold}`,
    { details: { round, remaining, threshold, ...(client === undefined ? {} : { client }) } },
  );
}

/** A client refuses to go on: `ERR_PROTOCOL_ABORTED` with `{ reason, ... }`. */
export function protocolAbort(reason: string, details: Record<string, unknown> = {}): UnseenError {
  return new UnseenError('ERR_PROTOCOL_ABORTED', `secure aggregation client aborted: ${reason}`, {
    details: { reason, ...details },
  });
}

/** Parties disagree on parameters or membership: `ERR_PARAMETER_MISMATCH`. */
export function mismatch(message: string, details: Record<string, unknown> = {}): UnseenError {
  return new UnseenError('ERR_PARAMETER_MISMATCH', message, { details });
}

/**
 * Shares that do not reconstruct a committed secret, even correcting every share that can be
 * corrected: `ERR_INTEGRITY` with `{ client, shares, threshold, correctable }`.
 */
export function tampered(
  client: number,
  what: string,
  shares: number,
  threshold: number,
): UnseenError {
  const correctable = correctableShares(shares, threshold);
  return new UnseenError(
    'ERR_INTEGRITY',
    `Unmasking: the ${shares} shares of client ${client}'s ${what} do not reconstruct the committed value: more than ${correctable} of them are corrupted (threshold ${threshold})`,
    { details: { client, shares, threshold, correctable } },
  );
}
