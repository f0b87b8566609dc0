/**
 * What each role may do. The matrix is the first gate of every API call; ownership (a
 * provider's own assets, a consumer's own jobs and receipts) is the second, checked by the
 * exchange next to the data.
 * @module
 */
import { UnseenError } from '@unseen/core';
import type { Role } from './identity.js';

/** Every action of the API. */
export const ACTIONS = [
  'party.register',
  'party.list',
  'asset.register',
  'asset.read',
  'policy.set',
  'policy.revoke',
  'policy.read',
  'job.request',
  'job.read',
  'job.report',
  'job.relay',
  'receipt.read',
  'ledger.read',
  'metering.read',
] as const;
export type Action = (typeof ACTIONS)[number];

const MATRIX: Readonly<Record<Role, readonly Action[]>> = {
  operator: [
    'party.register',
    'party.list',
    'asset.read',
    'policy.set',
    'policy.revoke',
    'policy.read',
    'job.read',
    'receipt.read',
    'ledger.read',
    'metering.read',
  ],
  provider: [
    'asset.register',
    'asset.read',
    'policy.set',
    'policy.revoke',
    'policy.read',
    'job.read',
    'job.report',
    'job.relay',
    'receipt.read',
    'metering.read',
  ],
  consumer: [
    'asset.read',
    'policy.read',
    'job.request',
    'job.read',
    'job.report',
    'job.relay',
    'receipt.read',
    'metering.read',
  ],
  exchange: [],
};

/** True when `role` may perform `action` (before ownership checks). */
export function roleAllows(role: Role, action: Action): boolean {
  return MATRIX[role].includes(action);
}

/**
 * The error for an authenticated party that may not do something: `ERR_UNAUTHORIZED` with
 * `details.authenticated = true`, which the service answers with 403 (401 is for requests whose
 * signer is unknown or whose signature fails).
 */
export function forbidden(message: string, details: Record<string, unknown> = {}): UnseenError {
  return new UnseenError('ERR_UNAUTHORIZED', message, {
    details: { authenticated: true, ...details },
  });
}

/** Throws {@link forbidden} unless `role` may perform `action`. */
export function requireRole(role: Role, action: Action): void {
  if (!roleAllows(role, action)) throw forbidden(`a ${role} may not ${action}`, { action, role });
}
