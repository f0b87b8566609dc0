/**
 * The fixed limits of the protocol and the thresholds that follow from the group size alone
 * (Bonawitz et al., CCS 2017, Section 6): shared by the parameter validation (`params.ts`) and the
 * parameter analysis (`analysis.ts`).
 * @module
 */
import { aint } from '@unseen/core';

/** Most clients in one round: indices travel as u16-sized values in bitmaps and graphs. */
export const MAX_CLIENTS = 65_535;
/** Largest group (a client and its neighbours): Shamir over GF(256) has 255 non-zero points. */
export const MAX_GROUP = 255;
/** Largest input: 2^26 elements (256 MiB of 32-bit words, the message limit of core). */
export const MAX_LENGTH = 2 ** 26;

/**
 * floor(group / 2) + 1: the smallest t with 2t > group, so that a server telling some holders
 * that a client dropped and others that it survived never gathers t shares of both its secrets.
 * Every round needs it.
 */
export function majorityThreshold(group: number): number {
  return Math.floor(group / 2) + 1;
}

/**
 * floor(2 group / 3) + 1: the threshold of the active variant in Bonawitz et al.'s analysis,
 * which tolerates an active server colluding with fewer than a third of a group (2t > group + c).
 */
export function activeThreshold(group: number): number {
  return Math.floor((2 * group) / 3) + 1;
}

/**
 * The smallest threshold the group size allows: {@link majorityThreshold} against an
 * honest-but-curious server, {@link activeThreshold} in the active variant. For SecAgg+ the
 * parameter analysis may ask for more (see `minimumThreshold`).
 */
export function defaultThreshold(group: number, active = false): number {
  aint(group, 'group size', 2, MAX_GROUP);
  return active ? activeThreshold(group) : majorityThreshold(group);
}
