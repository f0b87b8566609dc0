/**
 * psi: unseen's ECDH PSI (x25519 and ristretto255 suites) against @openmined/psi.js 2.0.6
 * (P-256 in WebAssembly) on the same sets in the same run, with a plain Set intersection as the
 * floor. Every task runs all four phases: server setup, client request, server response, client
 * finish. Sets are n x n strings with 50% overlap; both libraries use a GCS at fpr 1e-6 sized for
 * n client elements.
 *
 * Quick: n = 2^12. `--full`: n = 2^16 (psi.js measured) and n = 2^20 (unseen only; psi.js's
 * time is extrapolated linearly from its 2^16 run: about 37 minutes here).
 */
import { availableParallelism } from 'node:os';
import { ed25519_hasher } from '@noble/curves/ed25519.js';
import PSI_MODULE from '@openmined/psi.js';
import { hashDst, hashToCurve25519U, PsiClient, PsiServer, type SuiteName } from '@unseen/psi';
import { createPool, type Pool } from '@unseen/workers';
import { defineSuite, type SuiteContext, type TaskSpec } from '../src/harness.js';

const FPR = 1e-6;

function sets(n: number): { server: string[]; client: string[] } {
  const server: string[] = [];
  const client: string[] = [];
  for (let i = 0; i < n; i++) server.push(`customer-${i}@bank-a.example`);
  for (let i = 0; i < n; i++) client.push(`customer-${i + n / 2}@bank-a.example`);
  return { server, client };
}

interface Bytes {
  setup: number;
  request: number;
  response: number;
}

async function unseenRun(
  suite: SuiteName,
  pool: Pool,
  server: string[],
  client: string[],
): Promise<Bytes & { matched: number }> {
  const s = await PsiServer.create({
    items: server,
    suite,
    fpr: FPR,
    maxClientItems: client.length,
    pool,
  });
  const c = await PsiClient.create({ items: client, suite, pool });
  const setup = await s.setup();
  const request = await c.request();
  const response = await s.respond(request);
  const { intersection } = await c.finish(setup, response);
  return {
    setup: setup.length,
    request: request.length,
    response: response.length,
    matched: intersection.length,
  };
}

type PsiLib = Awaited<ReturnType<typeof PSI_MODULE.default>>;
// psi.js is CommonJS: at run time the default import is the factory itself.
const PSI = ((PSI_MODULE as { default?: unknown }).default ?? PSI_MODULE) as () => Promise<PsiLib>;

function psijsRun(psi: PsiLib, server: string[], client: string[]): Bytes & { matched: number } {
  const srv = psi.server!.createWithNewKey(true);
  const cli = psi.client!.createWithNewKey(true);
  const setup = srv.createSetupMessage(FPR, client.length, server).serializeBinary();
  const request = cli.createRequest(client).serializeBinary();
  const response = srv.processRequest(psi.request!.deserializeBinary(request)).serializeBinary();
  const matched = cli.getIntersection(
    psi.serverSetup!.deserializeBinary(setup),
    psi.response!.deserializeBinary(response),
  ).length;
  srv.delete();
  cli.delete();
  return { setup: setup.length, request: request.length, response: response.length, matched };
}

function perElement(b: Bytes, n: number): Record<string, number> {
  return { setup: b.setup / n, request: b.request / n, response: b.response / n };
}

async function phases(
  ctx: SuiteContext,
  pool: Pool,
  label: string,
  server: string[],
  client: string[],
): Promise<void> {
  const t = () => performance.now();
  let t0 = t();
  const s = await PsiServer.create({
    items: server,
    fpr: FPR,
    maxClientItems: client.length,
    pool,
  });
  const c = await PsiClient.create({ items: client, pool });
  const setup = await s.setup();
  const tSetup = t() - t0;
  t0 = t();
  const request = await c.request();
  const tRequest = t() - t0;
  t0 = t();
  const response = await s.respond(request);
  const tResponse = t() - t0;
  t0 = t();
  await c.finish(setup, response);
  const tFinish = t() - t0;
  ctx.metric(
    `${label} phases ms (setup, request, response, finish)`,
    [tSetup, tRequest, tResponse, tFinish].map(Math.round),
  );
}

export default defineSuite({
  name: 'psi',
  title: 'Private set intersection: unseen vs psi.js',
  async run(ctx) {
    const psi = await PSI();
    const workers = Math.min(2, availableParallelism());
    const pool2 = createPool({ size: workers });
    const pool1 = createPool({ size: 1 }); // one core: one worker, the main thread only waits
    try {
      // Hash to curve alone: the batched RFC 9380 map against noble's (same suite, same outputs).
      const h = 2000;
      const enc = new TextEncoder();
      const msgs = Array.from({ length: h }, (_, i) => enc.encode(`customer-${i}`));
      const offsets = new Uint32Array(h + 1);
      const data = new Uint8Array(msgs.reduce((a, m) => a + m.length, 0));
      msgs.forEach((m, i) => {
        data.set(m, offsets[i]!);
        offsets[i + 1] = offsets[i]! + m.length;
      });
      const dst = hashDst('x25519');
      const hashing = await ctx.group({
        name: `hash to curve25519 (RFC 9380 ELL2 RO), ${h} items`,
        description:
          'Batched Montgomery-form Elligator 2 with shared inversions against @noble/curves (edwards25519 suite, same map).',
        unit: 'items',
        time: 1000,
        tasks: [
          {
            name: 'unseen hashToCurve25519U',
            role: 'unseen',
            items: h,
            fn: () => hashToCurve25519U(data, offsets, dst),
          },
          {
            name: '@noble/curves ed25519_hasher',
            role: 'peer',
            items: h,
            fn: () => msgs.map((m) => ed25519_hasher.hashToCurve(m, { DST: dst })),
          },
        ],
      });
      ctx.metric(
        'hash to curve speedup vs noble',
        hashing.tasks[1]!.meanMs / hashing.tasks[0]!.meanMs,
      );

      // ristretto255 (pure JavaScript) on a small set, beside psi.js.
      {
        const n = 1024;
        const { server, client } = sets(n);
        const rg = await ctx.group({
          name: `PSI ${n.toLocaleString('en')} x ${n.toLocaleString('en')}, ristretto255 suite`,
          description:
            'The portable suite: @noble/curves ristretto255 for hashing and multiplication.',
          unit: 'elements',
          iterations: 2,
          time: 0,
          warmup: false,
          tasks: [
            {
              name: `unseen ristretto255, ${workers} workers`,
              role: 'unseen',
              items: n,
              fn: async () => {
                const r = await unseenRun('ristretto255', pool2, server, client);
                if (r.matched !== n / 2) throw new Error(`ristretto255: ${r.matched} matches`);
              },
            },
            {
              name: 'psi.js 2.0.6 (P-256 WebAssembly, 1 core)',
              role: 'peer',
              items: n,
              fn: () => {
                if (psijsRun(psi, server, client).matched !== n / 2)
                  throw new Error('psi.js: wrong count');
              },
            },
          ],
        });
        ctx.metric(
          `n=${n}: psi.js / unseen ristretto255 (${workers} workers)`,
          rg.tasks[1]!.meanMs / rg.tasks[0]!.meanMs,
        );
      }

      const sizes = ctx.full ? [2 ** 16, 2 ** 20] : [2 ** 12];
      let psijs16: number | undefined;
      for (const n of sizes) {
        const { server, client } = sets(n);
        const expected = n / 2;
        const huge = n >= 2 ** 20;
        ctx.log(`n = ${n}: ${huge ? 'unseen only (psi.js extrapolated)' : 'unseen and psi.js'}`);
        const bytes: Record<string, Bytes> = {};
        const check = (name: string, r: Bytes & { matched: number }) => {
          if (r.matched !== expected)
            throw new Error(`${name}: ${r.matched} matches, expected ${expected}`);
          bytes[name] = r;
        };
        const tasks: TaskSpec[] = [
          {
            name: `unseen x25519, ${workers} workers`,
            role: 'unseen',
            items: n,
            fn: async () => check('unseen', await unseenRun('x25519', pool2, server, client)),
          },
        ];
        if (!huge) {
          tasks.push({
            name: 'unseen x25519, 1 core',
            role: 'unseen',
            items: n,
            fn: async () => check('unseen', await unseenRun('x25519', pool1, server, client)),
          });
          tasks.push({
            name: 'psi.js 2.0.6 (P-256 WebAssembly, 1 core)',
            role: 'peer',
            items: n,
            fn: async () => check('psi.js', psijsRun(psi, server, client)),
          });
        }
        tasks.push({
          name: 'plain Set intersection (no privacy)',
          role: 'baseline',
          items: n,
          fn: async () => {
            const s = new Set(server);
            check('plain', {
              matched: client.filter((x) => s.has(x)).length,
              setup: 0,
              request: 0,
              response: 0,
            });
          },
        });
        const g = await ctx.group({
          name: `PSI ${n.toLocaleString('en')} x ${n.toLocaleString('en')} (50% overlap), all four phases`,
          description: `Server setup + client request + server response + client intersection, fpr ${FPR}. psi.js runs on the calling thread (one core).`,
          unit: 'elements',
          iterations: n >= 2 ** 16 ? 1 : 3,
          time: 0,
          warmup: n < 2 ** 16,
          tasks,
        });
        const ms = (name: string) => g.tasks.find((t) => t.name.startsWith(name))?.meanMs;
        const two = ms(`unseen x25519, ${workers}`)!;
        const one = ms('unseen x25519, 1 core');
        const peer = ms('psi.js');
        if (peer !== undefined && n === 2 ** 16) psijs16 = peer;
        if (peer !== undefined) {
          ctx.metric(`n=${n}: psi.js / unseen x25519 (1 core)`, peer / one!);
          ctx.metric(`n=${n}: psi.js / unseen x25519 (${workers} workers)`, peer / two);
          ctx.metric(`n=${n}: bytes per element psi.js`, perElement(bytes['psi.js']!, n));
        }
        ctx.metric(`n=${n}: unseen x25519 seconds (${workers} workers)`, two / 1000);
        ctx.metric(`n=${n}: bytes per element unseen`, perElement(bytes.unseen!, n));
        if (huge && psijs16 !== undefined) {
          const extrapolated = psijs16 * (n / 2 ** 16);
          ctx.metric(`n=${n}: psi.js seconds (extrapolated from 2^16)`, extrapolated / 1000);
          ctx.metric(
            `n=${n}: psi.js (extrapolated) / unseen x25519 (${workers} workers)`,
            extrapolated / two,
          );
          ctx.note(
            `psi.js was not run at n = ${n}: its time (${(extrapolated / 60000).toFixed(1)} min) is extrapolated linearly from its 2^16 run in this suite.`,
          );
        }
        if (!huge) {
          await phases(ctx, pool2, `n=${n} x25519 ${workers} workers`, server, client);
          // The Bloom filter option at the same rate: setup bytes per server element.
          const bloom = await PsiServer.create({
            items: server,
            filter: 'bloom',
            fpr: FPR,
            maxClientItems: client.length,
            pool: pool2,
          });
          ctx.metric(
            `n=${n}: setup bytes per element unseen Bloom`,
            (await bloom.setup()).length / n,
          );
        }
      }

      // Sum mode with the default 3072-bit Paillier key: the client's side (modulus proof check,
      // validation of every ciphertext, own re-randomisation) and the server's decryption.
      {
        const n = 256;
        const { server, client } = sets(n);
        const s = await PsiServer.create({
          items: server,
          mode: 'sum',
          values: server.map((_, i) => i),
          maxClientItems: n,
          pool: pool2,
        });
        const setup = await s.setup();
        let expected = 0n;
        for (let i = n / 2; i < n; i++) expected += BigInt(i);
        await ctx.group({
          name: `sum mode ${n} x ${n}, 3072-bit Paillier: request to sum`,
          description:
            'Client request, server response, client finish (modulus proof, ciphertext checks, masked re-randomised sum), server decryption, client unmasking. The setup is built once, outside the timing.',
          unit: 'elements',
          iterations: 3,
          time: 0,
          warmup: true,
          tasks: [
            {
              name: 'unseen sum mode (x25519, 2 workers)',
              role: 'unseen',
              items: n,
              fn: async () => {
                const c = await PsiClient.create({ items: client, mode: 'sum', pool: pool2 });
                const pending = await c.finish(setup, await s.respond(await c.request()));
                const r = await c.finishSum(await s.respond(pending.sumQuery));
                if (r.sum !== expected) throw new Error(`sum mode: ${r.sum}, expected ${expected}`);
              },
            },
          ],
        });
        ctx.metric(`sum mode n=${n}: setup bytes per element (3072-bit)`, setup.length / n);
      }
      ctx.note(
        'unseen x25519 hashes with a batched RFC 9380 map and multiplies with node:crypto X25519; ristretto255 is pure JavaScript (@noble/curves) and is measured on 1,024 elements.',
      );
    } finally {
      await pool1.close();
      await pool2.close();
    }
  },
});
