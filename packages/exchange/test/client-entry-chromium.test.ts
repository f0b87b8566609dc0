/**
 * `@unseen/exchange/client` in a real headless Chromium against a real exchange service on
 * loopback: the page is bundled by esbuild for the browser and served from its own origin,
 * which the exchange allows by CORS. In the page a consumer makes its key pair, signs a request
 * by hand and through `ExchangeClient` (the service accepts both, and refuses a forged one),
 * requests a job, reads it back and checks its ticket, then opens the job's relay with the
 * browser's WebSocket (authenticated in the query) and exchanges messages, large ones too,
 * with a provider running in Node. Refusals arrive typed; an exchange that does not allow the
 * page's origin is unreachable from it.
 *
 * On CI the browser run is mandatory (a missing Chromium fails); elsewhere it is skipped, with
 * the reason in the test name, only when Debian's chromium is not installed.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { equalBytes, randomBytes } from '@unseen/core';
import {
  commitRows,
  ExchangeClient,
  type ExchangeServer,
  type JobView,
  localAggregateRunner,
  ProviderNode,
  type PublicIdentity,
  RunnerRegistry,
  type Schema,
  startExchangeServer,
} from '@unseen/exchange';
import { build } from 'esbuild';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  chromiumSuite,
  serveDirectory,
} from '../../../test/utils/chromium.js';
import type { Steps } from './browser/exchange-client-page.js';
import { type InProcess, inProcessExchange, openAsset, openPolicy } from './helpers/inprocess.js';

const { suite, reason } = chromiumSuite(describe);

/** Calls `steps[name](...args)` in the page. */
function step<K extends keyof Steps>(
  page: Page,
  name: K,
  ...args: Parameters<Steps[K]>
): Promise<Awaited<ReturnType<Steps[K]>>> {
  return page.evaluate(
    ([n, a]) => {
      const steps = (window as unknown as { steps: Record<string, (...x: unknown[]) => unknown> })
        .steps;
      return steps[n as string]!(...(a as unknown[]));
    },
    [name, args] as const,
  ) as Promise<Awaited<ReturnType<Steps[K]>>>;
}

suite(`@unseen/exchange/client in headless Chromium${reason}`, () => {
  let dir = '';
  let www: Awaited<ReturnType<typeof serveDirectory>> | undefined;
  let origin = '';
  let p: InProcess;
  let exchange: ExchangeServer;
  let closed: ExchangeServer;
  let context: BrowserContext;
  let page: Page;
  const logs: string[] = [];
  const browserDir = fileURLToPath(new URL('./browser/', import.meta.url));
  const readmeFile = join(browserDir, `.readme-${process.pid}.ts`);
  const readmeEntry = join(browserDir, `.readme-entry-${process.pid}.ts`);

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is required when CI=true`).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'unseen-exchange-browser-'));
    // The README's browser example, as written, beside the page (so that its import resolves).
    const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const example = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .find((code) => code.includes("from '@unseen/exchange/client'"));
    expect(example, 'the README has a browser example').toBeDefined();
    await writeFile(readmeFile, example!);
    await writeFile(
      readmeEntry,
      `import * as example from './${basename(readmeFile)}';\n(window as unknown as { readme: unknown }).readme = example;\n`,
    );
    await build({
      entryPoints: {
        page: fileURLToPath(new URL('./browser/exchange-client-page.ts', import.meta.url)),
        readme: readmeEntry,
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['source'],
      outdir: join(dir, 'www'),
      sourcemap: true,
      logLevel: 'silent',
    });
    await writeFile(
      join(dir, 'www', 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>unseen exchange client</title><script type="module" src="./readme.js"></script><script type="module" src="./page.js"></script>\n',
    );
    await rm(readmeFile, { force: true });
    await rm(readmeEntry, { force: true });
    www = await serveDirectory(join(dir, 'www'));
    origin = www.origin;

    p = await inProcessExchange();
    await openAsset(p, 'claims', ['aggregate.count']);
    exchange = await startExchangeServer({ exchange: p.ex, corsOrigins: [origin] });
    closed = await startExchangeServer({ exchange: p.ex });

    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60_000,
    });
    page = await context.newPage();
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'steps' in window && 'readme' in window, undefined, {
      timeout: 30_000,
    });
  }, 120_000);

  afterAll(async () => {
    await rm(readmeFile, { force: true });
    await rm(readmeEntry, { force: true });
    await context?.close();
    await exchange?.close();
    await closed?.close();
    await p?.close();
    await www?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs requests the service accepts, and runs a job relay with a Node party', async () => {
    // The page's consumer: its key pair is made in the browser; the operator admits it.
    const pub: PublicIdentity = await step(page, 'identity');
    expect(pub.role).toBe('consumer');
    await p.ex.registerParty(p.actors.operator, pub);
    await openPolicy(p, 'claims', pub.keyId, ['aggregate.count']);

    // A request signed in the browser with signRequest and sent with fetch.
    const signed = await step(page, 'signedFetch', exchange.url, p.ex.identity.keyId, false);
    expect(signed, logs.join('\n')).toEqual({ status: 200, body: pub });
    const forged = await step(page, 'signedFetch', exchange.url, p.ex.identity.keyId, true);
    expect(forged).toMatchObject({
      status: 401,
      body: { error: { code: 'ERR_UNAUTHORIZED', details: { reason: 'bad-signature' } } },
    });

    // The typed client: a job is admitted, read back, its ticket checked in the browser.
    const r = await step(page, 'requestJob', exchange.url, 'claims');
    expect(r.view.job.consumer).toBe(pub.keyId);
    expect(r.view.job.state).toBe('admitted');
    expect(r.read.job.id).toBe(r.view.job.id);
    expect(r.ticketJobId).toBe(r.view.job.id);
    expect(r.listed).toContain(r.view.job.id);
    expect(r.denied).toMatchObject({
      error: { name: 'UnseenError', code: 'ERR_POLICY_DENIED' },
    });
    const job = await p.ex.getJob(p.actors.consumer, r.view.job.id).catch(() => undefined);
    expect(job).toBeUndefined(); // another consumer's job does not exist for it
    const view: JobView = r.view;

    // The relay: the browser's WebSocket on one side, a Node provider on the other.
    expect(await step(page, 'openRelay', view)).toBe('function');
    const provider = await ExchangeClient.connect(exchange.url, p.ids.provider);
    const node = await provider.relay(view);
    const toBrowser = node.channel(pub.keyId);
    for (const size of [3, 70_000, 3 * 1024 * 1024]) {
      const m = new Uint8Array(size);
      for (let i = 0; i < size; i++) m[i] = (i * 7 + 1) & 0xff;
      const echoed = step(page, 'echo', p.ids.provider.keyId);
      await toBrowser.send(m);
      expect(await echoed).toEqual({ length: size, first: m[0], last: m[size - 1] });
      const back = await toBrowser.receive({ timeoutMs: 20_000 });
      expect(back.length).toBe(size);
      expect(equalBytes(back, m.slice().reverse())).toBe(true); // (toEqual is slow on MiBs)
    }
    // The page leaving is seen by its peer.
    await step(page, 'closeRelay');
    await expect(toBrowser.receive({ timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'ERR_CHANNEL_CLOSED',
    });
    node.close();
    const entry = await p.ex.failJob(view.job.id, 'ERR_ABORTED', 'test over');
    expect(entry!.receipt.body.bytes.relayed).toBeGreaterThan(2 * (3 * 1024 * 1024));
  }, 120_000);

  it('refusals reach the browser typed; an exchange without CORS for the page is unreachable', async () => {
    const view: JobView = await ExchangeClient.connect(exchange.url, p.ids.consumer).then((c) =>
      c.requestJob({
        computation: 'aggregate.count',
        assets: ['claims'],
        params: {},
        cohort: 0,
        privacy: null,
      }),
    );
    const refused = await step(page, 'strangerRelay', exchange.url, p.ex.identity.keyId, view);
    expect(refused.registered).toMatchObject({
      error: { name: 'UnseenError', code: 'ERR_NOT_FOUND', details: { status: 404 } },
    });
    expect(refused.unknown).toMatchObject({
      error: {
        name: 'UnseenError',
        code: 'ERR_UNAUTHORIZED',
        details: { reason: 'unknown-key', status: 401 },
      },
    });
    expect(await step(page, 'connectElsewhere', closed.url)).toMatchObject({
      error: { code: 'ERR_CHANNEL_CLOSED' },
    });
    // The same exchange answers a Node client (CORS is the browser's rule).
    expect((await fetch(`${closed.url}/v1/exchange`)).status).toBe(200);
    await p.ex.failJob(view.job.id, 'ERR_ABORTED', 'test over');
  }, 60_000);

  it("runs the README's browser example: a DP mean with a provider node in Node", async () => {
    // The provider's asset: incomes it keeps, committed at the exchange.
    const schema: Schema = [
      { name: 'id', type: 'string' },
      { name: 'income', type: 'number' },
    ];
    const rows = Array.from({ length: 300 }, (_, i) => [`c${i}`, 1000 + (i % 90) * 100]);
    const commitKey = randomBytes(32);
    const commitment = commitRows(schema, rows, commitKey);
    const bank = await ExchangeClient.connect(exchange.url, p.ids.provider);
    await bank.registerAsset({
      id: 'incomes',
      title: 'Incomes',
      schema,
      classification: 'general',
      commitment,
      computations: ['aggregate.mean'],
    });
    const me = (await step(page, 'identity')) as PublicIdentity;
    await p.ex.registerParty(p.actors.operator, me);
    await bank.setPolicy({
      assetId: 'incomes',
      consumer: me.keyId,
      computations: ['aggregate.mean'],
      minCohort: 20,
      budget: { epsilon: 2, delta: 0 },
      maxEpsilonPerJob: 1,
      quota: 5,
      expiresAt: Date.now() + 3_600_000,
    });
    const node = new ProviderNode({
      client: bank,
      runners: new RunnerRegistry([localAggregateRunner]),
      assets: [{ id: 'incomes', schema, rows, commitment, root: commitment.root, commitKey }],
      pollIntervalMs: 100,
    }).start();
    try {
      const out = (await step(page, 'readme', exchange.url, 'incomes')) as {
        result: { computation: string; value: number; noise: { epsilon: number } };
        seq: number;
        status: string;
      };
      expect(out.status).toBe('finished');
      expect(out.result.computation).toBe('aggregate.mean');
      expect(out.result.noise.epsilon).toBe(1);
      const mean = rows.reduce((a, r) => a + (r[1] as number), 0) / rows.length;
      // Discrete Laplace noise on a sum of 300 values in [0, 20000] and on the count, at
      // epsilon 1: far below 2,000 in all but a negligible fraction of runs.
      expect(Math.abs(out.result.value - mean)).toBeLessThan(2000);
      const receipt = await bank.getReceipt(
        (await bank.listJobs()).find((j) => j.consumer === me.keyId && j.state === 'finished')!.id,
      );
      expect(receipt.seq).toBe(out.seq);
    } finally {
      await node.stop();
    }
  }, 120_000);
});
