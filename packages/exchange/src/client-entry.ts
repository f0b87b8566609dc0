/**
 * `@unseen/exchange/client`: what a consumer's or a provider's app needs to talk to an
 * exchange, in browsers as in Node, without the service (no pg, ws, SQLite, node:* imports):
 * identities and signed requests, the typed HTTP client, asset, policy, job, ticket, receipt and
 * ledger definitions with their checks, the relay client, and the job drivers with the
 * single-provider aggregate runner (`localAggregateRunner`) and the runner wire helpers. The
 * PSI, joint-aggregate and federated runners stay in the main entry: their protocol packages
 * load node-seal, which does not bundle for browsers today.
 * @example
 * ```ts
 * import { ExchangeClient, Identity } from '@unseen/exchange/client';
 * const me = Identity.fromKeyFile(keyFileJson);
 * const client = await ExchangeClient.connect('https://exchange.example', me);
 * const view = await client.requestJob({ computation: 'aggregate.count', assets: ['claims'], params: {}, cohort: 0, privacy: null });
 * ```
 * @module
 */
export * from './asset.js';
export * from './auth.js';
export * from './canonical.js';
export * from './client.js';
export * from './computations.js';
export type { JobView } from './exchange.js';
export * from './identity.js';
export * from './job.js';
export * from './job-driver.js';
export * from './ledger.js';
export * from './merkle.js';
export * from './policy.js';
export * from './receipt.js';
export * from './relay-client.js';
export * from './relay-frame.js';
export * from './runner.js';
export * from './runners/aggregate.js';
export * from './runners/wire.js';
export * from './schema.js';
export type { MeteringRow } from './store.js';
export * from './ticket.js';
export * from './ws-channel.js';
