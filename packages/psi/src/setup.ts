/**
 * The server's setup: what a client needs besides the response to find its matches, computed
 * once from the server's items and reusable by any number of clients. It holds the PRF tags of
 * the server's items compressed into a GCS or a Bloom filter and, by mode, the sealed labels or
 * the Paillier-encrypted values in the GCS's order.
 *
 * Sizing (false-positive rate): `fpr` bounds the probability that a client holding up to
 * `maxClientItems` elements sees any false positive (union bound), so each lookup may err with
 * probability p = fpr / maxClientItems. The GCS range M is the smallest multiple of 3 for which
 * the exact per-lookup bound of filter.ts, (1 + n / 2^53) ceil(2^53 / M) / 2^53, is at most p; the
 * Bloom filter is grown until its actual rate (X/m)^k is at most p (filter.ts). Labels are
 * authenticated (AES-GCM) and sum entries carry a 64-bit check value, so in those modes a filter
 * false positive is caught, not reported.
 *
 * Layout (body of a type-16 message whose session field is the setup id):
 * `suite u8 | mode u8 | filter u8 | entries u32 | maxClientItems u32 | fpr f64 | filter params |
 * filter bytes (u32 length) | mode extras`, where the labels extras are `frame bytes u32 |
 * label salt 32 B | sealed labels` and the sum extras `public key (u32 length) | modulus proof
 * (u32 length) | ciphertext bytes u32 | checks | ciphertexts`.
 * @module
 */
import { ByteReader, ByteWriter, encodeMessage, SESSION_ID_BYTES, UnseenError } from '@unseen/core';
import {
  bloomHas,
  decodeGcs,
  type Gcs,
  gcsLookup,
  MAX_BLOOM_PROBES,
  MAX_GCS_RANGE,
} from './filter.js';
import { SUITE_IDS, type SuiteName } from './group.js';
import { GCM_TAG, LABEL_FRAME } from './labels.js';
import {
  decodeEnvelope,
  MODE_IDS,
  MSG,
  modeFromId,
  PSI_VERSION,
  type PsiMode,
  suiteFromId,
} from './wire.js';

/** How the setup compresses the server's tags. */
export const FILTERS = ['gcs', 'bloom'] as const;
/** A setup filter. */
export type FilterKind = (typeof FILTERS)[number];
const FILTER_IDS: Record<FilterKind, number> = { gcs: 1, bloom: 2 };

/** Bytes of the per-entry check value in sum mode. */
export const SUM_CHECK_BYTES = 8;
/** Most entries a setup may hold. */
export const MAX_SETUP_ENTRIES = 2 ** 28;
/** Bytes of the random per-setup salt of the label keys. */
export const LABEL_SALT_BYTES = 32;
/** Smallest per-lookup false-positive rate a setup can be sized for: just above 5 / 2^53 (2^-50.7). */
export const MIN_LOOKUP_FPR = (5 / 2 ** 53) * (1 + 2 ** -20);

/**
 * The GCS range M for a per-lookup rate p = fpr / maxClientItems: the smallest multiple of 3 with
 * (1 + n / 2^53) ceil(2^53 / M) / 2^53 <= p for any n <= 2^28 (the exact bound of filter.ts), so
 * the stated rate is an upper bound, never an average exceeded by quantisation.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` when p is below {@link MIN_LOOKUP_FPR} (M would
 * exceed 2^51)
 */
export function gcsRange(fpr: number, maxClientItems: number): number {
  const perLookup = fpr / Math.max(1, maxClientItems);
  // The most preimages a remainder may have: c = ceil(2^53 / M) <= p 2^53 / (1 + 2^-25); the
  // factor (1 - 2^-24) is smaller than 1 / (1 + 2^-25) and covers the double rounding too.
  const c = Math.floor(perLookup * 2 ** 53 * (1 - 2 ** -24));
  if (!(c >= 5)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `fpr / maxClientItems = ${perLookup} is below ${MIN_LOOKUP_FPR.toPrecision(3)} (about 2^-50.7): raise fpr or lower maxClientItems`,
    );
  }
  // M >= 2^53 / c, so ceil(2^53 / M) <= c; exact in BigInt, then up to a multiple of 3.
  const big = BigInt(Math.min(c, 2 ** 53));
  const least = Number((2n ** 53n + big - 1n) / big);
  const m = 3 * Math.ceil(least / 3);
  return Math.max(3, m); // c >= 5: m <= 3 ceil(2^53 / 15) < 2^51
}

/** Everything a setup carries, decoded. */
export interface SetupData {
  setupId: Uint8Array;
  suite: SuiteName;
  mode: PsiMode;
  filter: FilterKind;
  entries: number;
  maxClientItems: number;
  fpr: number;
  /** GCS: range M. */
  gcsRange?: number;
  /** Bloom: bits and probes. */
  bloomBits?: number;
  bloomProbes?: number;
  filterBytes: Uint8Array;
  /** labels: framed plaintext bytes per label (sealed entries are 16 bytes longer). */
  labelFrameBytes?: number;
  /** labels: the random salt of this setup's label keys (fresh at every build). */
  labelSalt?: Uint8Array;
  /** labels: entries x (labelFrameBytes + 16) sealed labels in GCS order. */
  sealedLabels?: Uint8Array;
  /** sum: serialized Paillier public key. */
  publicKey?: Uint8Array;
  /** sum: proof that the Paillier modulus is coprime to its totient (modulus-proof.ts). */
  modulusProof?: Uint8Array;
  /** sum: bytes per ciphertext. */
  ciphertextBytes?: number;
  /** sum: entries x 8 check bytes, GCS order. */
  checks?: Uint8Array;
  /** sum: entries x ciphertextBytes, GCS order. */
  ciphertexts?: Uint8Array;
}

/** Serializes a setup. */
export function encodeSetup(s: SetupData): Uint8Array {
  const w = new ByteWriter(
    64 + s.filterBytes.length + (s.sealedLabels?.length ?? 0) + (s.ciphertexts?.length ?? 0),
  )
    .u8(SUITE_IDS[s.suite])
    .u8(MODE_IDS[s.mode])
    .u8(FILTER_IDS[s.filter])
    .u32(s.entries)
    .u32(s.maxClientItems)
    .f64(s.fpr);
  if (s.filter === 'gcs') w.u64(s.gcsRange!);
  else w.u64(s.bloomBits!).u8(s.bloomProbes!);
  w.varBytes(s.filterBytes);
  if (s.mode === 'labels') w.u32(s.labelFrameBytes!).bytes(s.labelSalt!).bytes(s.sealedLabels!);
  if (s.mode === 'sum') {
    w.varBytes(s.publicKey!)
      .varBytes(s.modulusProof!)
      .u32(s.ciphertextBytes!)
      .bytes(s.checks!)
      .bytes(s.ciphertexts!);
  }
  return encodeMessage({
    version: PSI_VERSION,
    type: MSG.setup,
    session: s.setupId,
    body: w.finish(),
  });
}

function bad(reason: string): never {
  throw new UnseenError('ERR_MALFORMED_MESSAGE', `setup: ${reason}`);
}

/**
 * Parses and checks a setup: envelope, known suite, mode and filter, parameter ranges, and that
 * every section has exactly the size its header announces.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_PARAMETER_MISMATCH`, `ERR_UNSUPPORTED_VERSION`,
 * `ERR_UNEXPECTED_MESSAGE`, `ERR_MESSAGE_TOO_LARGE`
 */
export function decodeSetup(bytes: Uint8Array, maxBytes = 2 ** 31 - 1): SetupData {
  const msg = decodeEnvelope(bytes, MSG.setup);
  if (msg.body.length > maxBytes) {
    throw new UnseenError(
      'ERR_MESSAGE_TOO_LARGE',
      `setup: ${msg.body.length} bytes exceed ${maxBytes}`,
    );
  }
  const r = new ByteReader(msg.body, 'setup');
  const suite = suiteFromId(r.u8('suite'), 'setup');
  const mode = modeFromId(r.u8('mode'), 'setup');
  const filterId = r.u8('filter');
  const filter = filterId === 1 ? 'gcs' : filterId === 2 ? 'bloom' : undefined;
  if (filter === undefined)
    throw new UnseenError('ERR_PARAMETER_MISMATCH', `setup: unknown filter ${filterId}`);
  const entries = r.u32('entries');
  const maxClientItems = r.u32('maxClientItems');
  const fpr = r.f64('fpr');
  if (entries > MAX_SETUP_ENTRIES) bad('too many entries');
  if (!(fpr > 0 && fpr < 1)) bad('fpr out of (0, 1)');
  const s: SetupData = {
    setupId: msg.session.slice(),
    suite,
    mode,
    filter,
    entries,
    maxClientItems,
    fpr,
    filterBytes: new Uint8Array(0),
  };
  if (filter === 'gcs') {
    const m = r.u64('gcs range');
    if (m < 3 || m > MAX_GCS_RANGE || m % 3 !== 0) bad('GCS range out of bounds');
    s.gcsRange = m;
    s.filterBytes = r.varBytes('filter').slice();
    // every value costs at least 1 + floor(log2(2m/3)) bits: refuse counts the bytes cannot hold
    if (entries * (1 + Math.floor(Math.log2((2 * m) / 3))) > s.filterBytes.length * 8) {
      bad('entries exceed the compressed set');
    }
  } else {
    if (mode === 'labels' || mode === 'sum') bad(`mode ${mode} needs a GCS`);
    const bits = r.u64('bloom bits');
    const probes = r.u8('bloom probes');
    if (bits < 8 || bits > 2 ** 40 || probes < 1 || probes > MAX_BLOOM_PROBES)
      bad('Bloom geometry out of bounds');
    s.bloomBits = bits;
    s.bloomProbes = probes;
    s.filterBytes = r.varBytes('filter').slice();
    if (s.filterBytes.length !== Math.ceil(bits / 8))
      bad('Bloom filter size does not match its bits');
  }
  if (mode === 'labels') {
    const frame = r.u32('label frame bytes');
    if (frame < LABEL_FRAME) bad('label frame too short');
    s.labelSalt = r.bytes(LABEL_SALT_BYTES, 'label salt').slice();
    const size = entries * (frame + GCM_TAG);
    if (size !== r.remaining) bad(`expected ${size} bytes of sealed labels, got ${r.remaining}`);
    s.labelFrameBytes = frame;
    s.sealedLabels = r.bytes(size, 'labels').slice();
  }
  if (mode === 'sum') {
    s.publicKey = r.varBytes('public key', 1 << 16).slice();
    s.modulusProof = r.varBytes('modulus proof', 1 << 16).slice();
    const ctBytes = r.u32('ciphertext bytes');
    if (ctBytes === 0 || ctBytes > 1 << 16) bad('ciphertext size out of bounds');
    const size = entries * (SUM_CHECK_BYTES + ctBytes);
    if (size !== r.remaining) bad(`expected ${size} bytes of encrypted values, got ${r.remaining}`);
    s.ciphertextBytes = ctBytes;
    s.checks = r.bytes(entries * SUM_CHECK_BYTES, 'checks').slice();
    s.ciphertexts = r.bytes(entries * ctBytes, 'ciphertexts').slice();
  }
  r.end();
  if (s.setupId.length !== SESSION_ID_BYTES) bad('setup id');
  return s;
}

/** A membership oracle over a decoded setup. */
export interface SetupIndex {
  /** Positions (GCS order) whose value equals tag i's; for a Bloom filter [0] or []. */
  lookup(tags: Uint8Array, i: number): number[];
}

/**
 * Decodes the filter of a setup for lookups.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE`
 */
export function indexSetup(s: SetupData): SetupIndex {
  if (s.filter === 'bloom') {
    const { filterBytes, bloomBits, bloomProbes } = s;
    return {
      lookup: (tags, i) =>
        s.entries > 0 && bloomHas(filterBytes, bloomBits!, bloomProbes!, tags, i) ? [0] : [],
    };
  }
  const gcs: Gcs = decodeGcs(s.filterBytes, s.entries, s.entries, s.gcsRange!);
  return { lookup: (tags, i) => gcsLookup(gcs, tags, i) };
}
