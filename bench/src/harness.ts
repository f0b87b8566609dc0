/**
 * The benchmark harness: suites of tinybench groups where unseen, its peers and a plain (no
 * privacy) baseline run side by side in the same process, written to `results/<suite>.json` and
 * summarised in `results/README.md`.
 * @module
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import { Bench } from 'tinybench';

/** Who a task measures: our code, a peer library, or the computation without privacy. */
export type Role = 'unseen' | 'peer' | 'baseline';

/** One measured function. */
export interface TaskSpec {
  name: string;
  role: Role;
  fn: () => unknown;
  /** Elements (items, bytes, values) one call processes, for a per-element rate. */
  items?: number;
  /** Overrides the group's `time` for this task (e.g. a slow peer measured a few times). */
  time?: number;
  /** Overrides the group's `iterations` for this task. */
  iterations?: number;
  /** Overrides the group's `warmup` for this task. */
  warmup?: boolean;
}

/** Tasks compared with each other. */
export interface GroupSpec {
  name: string;
  description?: string;
  /** What `items` counts, e.g. 'bytes', 'values', 'items'. */
  unit?: string;
  tasks: TaskSpec[];
  /** Minimum milliseconds per task (default 500; less for slow tasks). */
  time?: number;
  /** Minimum calls per task (default 5). */
  iterations?: number;
  /** Warm-up calls before measuring (default true). */
  warmup?: boolean;
}

/** Measured numbers of one task. */
export interface TaskResult {
  name: string;
  role: Role;
  opsPerSec: number;
  meanMs: number;
  p99Ms: number;
  samples: number;
  items?: number;
  itemsPerSec?: number;
}

export interface GroupResult {
  name: string;
  description?: string;
  unit?: string;
  tasks: TaskResult[];
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  arch: string;
}

export interface SuiteResult {
  suite: string;
  title: string;
  date: string;
  full: boolean;
  machine: Machine;
  groups: GroupResult[];
  /** Suite-specific figures (speedups, ratios, bytes per element, ...). */
  metrics: Record<string, unknown>;
  notes: string[];
}

/** What a suite receives. */
export interface SuiteContext {
  /** `--full`: large sizes. */
  readonly full: boolean;
  /** Progress line on stderr. */
  log(message: string): void;
  /** Runs a group of tasks and records it. */
  group(spec: GroupSpec): Promise<GroupResult>;
  /** Records a suite-level figure. */
  metric(name: string, value: unknown): void;
  /** Records a sentence for the report. */
  note(text: string): void;
}

export interface Suite {
  name: string;
  title: string;
  run(ctx: SuiteContext): Promise<void>;
}

/** Identity helper that types a suite module's default export. */
export function defineSuite(suite: Suite): Suite {
  return suite;
}

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
}

async function runGroup(
  spec: GroupSpec,
  log: (m: string) => void,
  prefix: string,
): Promise<GroupResult> {
  const tasks: TaskResult[] = [];
  for (const t of spec.tasks) {
    // One Bench per task so a slow peer cannot starve the others of their time budget.
    const bench = new Bench({
      name: `${spec.name} / ${t.name}`,
      time: t.time ?? spec.time ?? 500,
      iterations: t.iterations ?? spec.iterations ?? 5,
      warmup: t.warmup ?? spec.warmup ?? true,
      warmupIterations: 2,
      warmupTime: 100,
      throws: true,
    });
    bench.add(t.name, t.fn);
    await bench.run();
    const task = bench.tasks[0]!;
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${t.name}: ${r.state}`);
    const result: TaskResult = {
      name: t.name,
      role: t.role,
      opsPerSec: 1000 / r.latency.mean,
      meanMs: r.latency.mean,
      p99Ms: r.latency.p99,
      samples: r.latency.samplesCount,
    };
    if (t.items !== undefined) {
      result.items = t.items;
      result.itemsPerSec = (t.items * 1000) / r.latency.mean;
    }
    tasks.push(result);
    log(
      `${prefix} › ${spec.name} › ${t.name}: ${fmt(result.meanMs)} ms/op (${result.samples} samples)`,
    );
  }
  const out: GroupResult = { name: spec.name, tasks };
  if (spec.description !== undefined) out.description = spec.description;
  if (spec.unit !== undefined) out.unit = spec.unit;
  return out;
}

/** Runs a suite and returns its result (the CLI writes it). */
export async function runSuite(
  suite: Suite,
  full: boolean,
  log: (m: string) => void,
): Promise<SuiteResult> {
  const result: SuiteResult = {
    suite: suite.name,
    title: suite.title,
    date: new Date().toISOString(),
    full,
    machine: machine(),
    groups: [],
    metrics: {},
    notes: [],
  };
  await suite.run({
    full,
    log: (m) => log(`${suite.name} › ${m}`),
    group: async (spec) => {
      const g = await runGroup(spec, log, suite.name);
      result.groups.push(g);
      return g;
    },
    metric: (name, value) => {
      result.metrics[name] = value;
    },
    note: (text) => {
      result.notes.push(text);
    },
  });
  return result;
}

/** Compact number formatting for tables. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)} k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

/** Mean-time ratio of `task` against the fastest unseen task of its group, as "3.20x". */
export function ratioAgainstUnseen(group: GroupResult, task: TaskResult): string {
  const ours = group.tasks.filter((t) => t.role === 'unseen');
  if (ours.length === 0 || task.role === 'unseen') return '';
  const best = Math.min(...ours.map((t) => t.meanMs));
  const r = task.meanMs / best;
  return r >= 1 ? `unseen ${r.toFixed(2)}x faster` : `unseen ${(1 / r).toFixed(2)}x slower`;
}

function renderMetric(value: unknown): string {
  if (typeof value === 'number') return fmt(value);
  return JSON.stringify(value);
}

/** Markdown for one suite result. */
export function renderSuite(r: SuiteResult): string {
  const m = r.machine;
  const lines = [
    `## ${r.title} (\`${r.suite}\`)`,
    '',
    `${r.full ? 'Full' : 'Quick'} sizes, ${r.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (${m.platform}-${m.arch}).`,
    '',
  ];
  for (const g of r.groups) {
    lines.push(`### ${g.name}`, '');
    if (g.description) lines.push(g.description, '');
    const unit = g.unit ?? 'items';
    lines.push(`| task | role | ms/op | p99 ms | ops/s | ${unit}/s | samples | vs unseen |`);
    lines.push('|---|---|--:|--:|--:|--:|--:|---|');
    for (const t of g.tasks) {
      lines.push(
        `| ${t.name} | ${t.role} | ${fmt(t.meanMs)} | ${fmt(t.p99Ms)} | ${fmt(t.opsPerSec)} | ${
          t.itemsPerSec === undefined ? '' : fmt(t.itemsPerSec)
        } | ${t.samples} | ${ratioAgainstUnseen(g, t)} |`,
      );
    }
    lines.push('');
  }
  const metrics = Object.entries(r.metrics);
  if (metrics.length > 0) {
    lines.push('### Figures', '');
    for (const [k, v] of metrics) lines.push(`- \`${k}\`: ${renderMetric(v)}`);
    lines.push('');
  }
  for (const n of r.notes) lines.push(`> ${n}`, '');
  return lines.join('\n');
}
