/**
 * The computations an exchange knows. A provider offers some of them per asset; a policy
 * allows some of them per consumer; a job names one. Each has a family whose runner (psi,
 * aggregate, federated) carries it out between the parties.
 * @module
 */
import { aoneOf, UnseenError } from '@unseen/core';

/** Every computation kind. */
export const COMPUTATIONS = [
  'psi.intersection',
  'psi.cardinality',
  'psi.sum',
  'aggregate.sum',
  'aggregate.mean',
  'aggregate.count',
  'federated.train',
] as const;
export type Computation = (typeof COMPUTATIONS)[number];

/** The protocol family that runs a computation. */
export type ComputationFamily = 'psi' | 'aggregate' | 'federated';

/** The family of a computation: the part before the dot. */
export function familyOf(computation: Computation): ComputationFamily {
  return computation.slice(0, computation.indexOf('.')) as ComputationFamily;
}

/**
 * Computations whose result names individual records of the provider (the intersection
 * itself). Core-data assets forbid them by default.
 */
export const RECORD_REVEALING: readonly Computation[] = ['psi.intersection'];

/** Checks a computation name. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function acomputation(value: unknown, title = 'computation'): Computation {
  return aoneOf(value, COMPUTATIONS, title);
}

/** Checks a non-empty list of distinct computations. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function acomputations(value: unknown, title = 'computations'): Computation[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}: expected a non-empty array`);
  }
  const out = value.map((c, i) => acomputation(c, `${title}[${i}]`));
  if (new Set(out).size !== out.length) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}: duplicate computation`);
  }
  return out;
}
