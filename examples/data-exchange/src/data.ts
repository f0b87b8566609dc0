/**
 * The demo's synthetic data, the same on every run: a seeded generator (core's AES-CTR `Prg`
 * under a fixed seed: for sample data only, never for keys or noise) makes a bank's risk list and
 * loan book, an insurer's loan book, and the shop's customers and its own past loans (its
 * validation set).
 *
 * Loans follow one logistic model of the debt-to-income ratio and age, so that a model trained
 * on the providers' records predicts defaults on the shop's.
 * @module
 */
import { PRG_SEED_BYTES, Prg } from '@unseen/core';

/**
 * A seeded stream of uniforms in [0, 1) with 53 random bits each: core's AES-128-CTR `Prg` under
 * a key made from `seed`, drawn ahead in one call so that the generators below stay synchronous.
 */
export async function seededUniforms(seed: number, count = 1 << 16): Promise<() => number> {
  const key = new Uint8Array(PRG_SEED_BYTES);
  new DataView(key.buffer).setUint32(0, seed);
  const words = await (await Prg.create(key)).uint32s(2 * count);
  let i = 0;
  return () => {
    if (i + 2 > words.length) throw new Error('seeded stream exhausted: draw more ahead');
    // (hi 27 bits * 2^26 + lo 26 bits) / 2^53
    const v = ((words[i]! >>> 5) * 67108864 + (words[i + 1]! >>> 6)) / 2 ** 53;
    i += 2;
    return v;
  };
}

/** How much data each party holds. */
export const SIZES = {
  riskList: 2000,
  shopCustomers: 1000,
  /** Shop customers that are on the bank's risk list. */
  shared: 137,
  bankLoans: 600,
  insurerLoans: 400,
  shopLoans: 500,
} as const;

/** Everything the demo writes as CSV (or a list, for the shop's customers). */
export interface DemoData {
  /** The bank's risk list: `customer_id,score`. */
  riskList: string;
  /** The shop's customer ids, one per line. */
  shopCustomers: string;
  /** `id,age,income,debt,defaulted` */
  bankLoans: string;
  insurerLoans: string;
  shopLoans: string;
}

function customerId(n: number): string {
  return `C-${String(n).padStart(6, '0')}`;
}

function loans(rows: number, rnd: () => number, prefix: string): string {
  const lines = ['id,age,income,debt,defaulted'];
  for (let i = 0; i < rows; i++) {
    const age = 20 + Math.floor(rnd() * 50);
    const income = 1000 + Math.floor(rnd() * 9000);
    const debt = Math.floor(rnd() * income * 1.5);
    const z = 6 * (debt / income - 0.75) - 0.03 * (age - 45);
    const defaulted = rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    lines.push(`${prefix}${i},${age},${income},${debt},${defaulted}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Draws `k` distinct integers below `n`. */
function sample(n: number, k: number, rnd: () => number): number[] {
  const picked = new Set<number>();
  while (picked.size < k) picked.add(Math.floor(rnd() * n));
  return [...picked];
}

/** The demo's data for `seed` (default 2024). */
export async function demoData(seed = 2024): Promise<DemoData> {
  const rnd = await seededUniforms(seed);
  const universe = 1_000_000;
  const ids = sample(universe, SIZES.riskList + SIZES.shopCustomers - SIZES.shared, rnd);
  const risk = ids.slice(0, SIZES.riskList);
  const onlyShop = ids.slice(SIZES.riskList);
  const shop = [...risk.slice(0, SIZES.shared), ...onlyShop];
  // Shuffle the shop's list so that the shared customers are spread out (Fisher-Yates).
  for (let i = shop.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [shop[i], shop[j]] = [shop[j]!, shop[i]!];
  }
  const riskLines = [
    'customer_id,score',
    ...risk.map((n) => `${customerId(n)},${1 + Math.floor(rnd() * 99)}`),
  ];
  return {
    riskList: `${riskLines.join('\n')}\n`,
    shopCustomers: `${shop.map(customerId).join('\n')}\n`,
    bankLoans: loans(SIZES.bankLoans, rnd, 'B'),
    insurerLoans: loans(SIZES.insurerLoans, rnd, 'I'),
    shopLoans: loans(SIZES.shopLoans, rnd, 'S'),
  };
}

/** A CSV's numeric column. */
export function column(csv: string, name: string): number[] {
  const [head, ...rows] = csv.trim().split('\n');
  const i = head!.split(',').indexOf(name);
  return rows.map((r) => Number(r.split(',')[i]));
}
