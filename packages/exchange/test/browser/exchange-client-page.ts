/**
 * Runs in headless Chromium, bundled by esbuild from `@unseen/exchange/client` for the browser:
 * what a consumer's web app does, one step at a time. The steps are put on `window.steps` for
 * the test to call with `page.evaluate`; they return plain JSON (errors as `{ code, ... }`).
 */
import { hexToBytes } from '@unseen/core';
import {
  connectRelay,
  ExchangeClient,
  Identity,
  type JobView,
  type PublicIdentity,
  type RelaySession,
  signRequest,
  verifyTicket,
} from '@unseen/exchange/client';

let me: Identity | undefined;
let client: ExchangeClient | undefined;
let session: RelaySession | undefined;

interface ErrorJson {
  name?: string | undefined;
  code?: string | undefined;
  message?: string | undefined;
  details?: unknown;
}

function errorOf(e: unknown): ErrorJson {
  const x = e as ErrorJson;
  return { name: x.name, code: x.code, message: x.message, details: x.details };
}

async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { error: ErrorJson }> {
  try {
    return { ok: await p };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

const steps = {
  /** Makes this page's key pair; the public part goes to the exchange's operator. */
  identity(): PublicIdentity {
    me = Identity.generate('consumer', 'browser-shop');
    return me.public;
  },

  /** A request signed by hand and sent with fetch: reads this party's own record. */
  async signedFetch(url: string, exchangeKeyId: string, forge: boolean) {
    const path = `/v1/parties/${me!.keyId}`;
    const signer = forge ? Identity.generate('consumer', 'forger') : me!;
    const headers = signRequest(signer, {
      method: 'GET',
      path,
      body: new Uint8Array(0),
      audience: exchangeKeyId,
    });
    if (forge) headers['x-unseen-key'] = me!.keyId; // someone else's signature on our key id
    const res = await fetch(url + path, { headers });
    return { status: res.status, body: (await res.json()) as unknown };
  },

  /** The typed client: connect, request a job, read it back, check its ticket, list jobs. */
  async requestJob(url: string, assetId: string) {
    client = await ExchangeClient.connect(url, me!);
    const view = await client.requestJob({
      computation: 'aggregate.count',
      assets: [assetId],
      params: {},
      cohort: 0,
      privacy: null,
    });
    const read = await client.getJob(view.job.id);
    const ticket = verifyTicket(read.job.ticket, hexToBytes(client.exchange.publicKey), Date.now());
    const listed = await client.listJobs();
    const denied = await outcome(
      client.requestJob({
        computation: 'psi.intersection',
        assets: [assetId],
        params: {},
        cohort: 0,
        privacy: null,
      }),
    );
    return { view, read, ticketJobId: ticket.jobId, listed: listed.map((j) => j.id), denied };
  },

  /** Opens the job's relay with the browser's own WebSocket. */
  async openRelay(view: JobView) {
    session = await client!.relay(view, { timeoutMs: 20_000 });
    return typeof WebSocket;
  },

  /** Receives one message from `peer` and sends it back reversed. */
  async echo(peer: string) {
    const channel = session!.channel(peer);
    const m = await channel.receive();
    const reversed = m.slice().reverse();
    await channel.send(reversed);
    return { length: m.length, first: m[0], last: m[m.length - 1] };
  },

  /** A party the job does not have, and an unknown key: refused by the relay, in band. */
  async strangerRelay(url: string, exchangeKeyId: string, view: JobView) {
    const registered = await outcome(
      connectRelay({
        url,
        identity: me!,
        exchangeKeyId,
        jobId: '0'.repeat(32),
        peers: view.parties,
      }),
    );
    const unknown = await outcome(
      connectRelay({
        url,
        identity: Identity.generate('consumer', 'stranger'),
        exchangeKeyId,
        jobId: view.job.id,
        peers: view.parties,
      }),
    );
    return { registered, unknown };
  },

  /** An exchange that does not allow this page's origin (no CORS): the browser blocks it. */
  async connectElsewhere(url: string) {
    return outcome(ExchangeClient.connect(url, me!).then(() => 'connected'));
  },

  closeRelay(): void {
    session?.close();
  },

  /** The README's browser example, with this page's identity. */
  async readme(url: string, assetId: string) {
    const example = (window as unknown as { readme?: ReadmeExample }).readme;
    if (example === undefined) throw new Error('the README example is not loaded');
    return example.meanFromTheBrowser(url, me!, assetId);
  },
};

/** The exports of the README's browser example. */
interface ReadmeExample {
  meanFromTheBrowser(url: string, me: Identity, assetId: string): Promise<unknown>;
}

export type Steps = typeof steps;

(window as unknown as { steps: Steps }).steps = steps;
