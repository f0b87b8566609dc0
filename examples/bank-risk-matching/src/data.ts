/**
 * Example data: a customer list for bank A and a risk list for bank B, as CSV files, with a
 * known number of shared IDs. Deterministic (a seeded xorshift generator), so runs repeat.
 * @module
 */
import { writeFile } from 'node:fs/promises';

/** A small seeded generator for example data (not for keys: the protocol uses crypto randomness). */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const RISKS = ['sanctions', 'fraud-ring', 'mule-account', 'chargeback-abuse', 'identity-theft'];

function iban(rand: () => number): string {
  let digits = '';
  for (let i = 0; i < 18; i++) digits += Math.floor(rand() * 10);
  return `DE${digits}`;
}

/** Options of {@link writeExampleData}. */
export interface ExampleData {
  customers: number;
  risky: number;
  shared: number;
  seed?: number;
}

/**
 * Writes `customers.csv` (bank A: `customer_id,name`) and `risk-list.csv` (bank B:
 * `customer_id,risk`) with exactly `shared` IDs in common.
 */
export async function writeExampleData(
  dir: string,
  o: ExampleData,
): Promise<{ customersCsv: string; riskCsv: string }> {
  const rand = xorshift(o.seed ?? 2026);
  const ids = new Set<string>();
  while (ids.size < o.customers + o.risky - o.shared) ids.add(iban(rand));
  const all = [...ids];
  const customers = all.slice(0, o.customers);
  const risky = [...customers.slice(0, o.shared), ...all.slice(o.customers)];
  const customersCsv = `${dir}/customers.csv`;
  const riskCsv = `${dir}/risk-list.csv`;
  await writeFile(
    customersCsv,
    `customer_id,name\n${customers.map((id, i) => `${id},customer ${i}`).join('\n')}\n`,
  );
  await writeFile(
    riskCsv,
    `customer_id,risk\n${risky.map((id) => `${id},${RISKS[Math.floor(rand() * RISKS.length)]}`).join('\n')}\n`,
  );
  return { customersCsv, riskCsv };
}

/** Reads a CSV with a header line: the first column, and the second if present. */
export function parseCsv(text: string): { ids: string[]; second: string[] } {
  const ids: string[] = [];
  const second: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const [id, rest] = line.split(',', 2);
    ids.push(id!.trim());
    second.push((rest ?? '').trim());
  }
  return { ids, second };
}
