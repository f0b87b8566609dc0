/**
 * @unseen/psi: private set intersection from ECDH (X25519 or ristretto255 with RFC 9380
 * hash-to-curve): the client learns the intersection, its size, the server's labels of shared
 * elements, or the sum of the server's values over them; the server's setup is computed once and
 * reused by every client.
 * @module
 */
export {
  type CardinalityResult,
  DEFAULT_CHUNK_ITEMS,
  type FinishResult,
  type IntersectionResult,
  type LabelsResult,
  PsiClient,
  type PsiClientOptions,
  type SumPending,
  type SumResult,
} from './client.js';
export { ELEMENT_BYTES, HASH_SUITES, hashDst, SUITES, type SuiteName } from './group.js';
export { hashToCurve25519U } from './hash-curve25519.js';
export type { Item } from './items.js';
export {
  type PsiProgress,
  type RunPsiClientOptions,
  type RunPsiServerOptions,
  runPsiClient,
  runPsiServer,
} from './run.js';
export { type ClientItemLimits, PsiServer, type PsiServerOptions } from './server.js';
export { decodeSetup, FILTERS, type FilterKind, type SetupData } from './setup.js';
export type { SumValue } from './sum.js';
export { psiTasks } from './tasks.js';
export { MODES, PSI_VERSION, type PsiMode } from './wire.js';
