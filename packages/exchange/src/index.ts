/**
 * @unseen/exchange: the "usable but not visible, controllable and measurable" core of a data
 * exchange. Identities and signed requests, asset commitments, policies, jobs and runners,
 * usage receipts in a signed hash-chained ledger, SQLite and PostgreSQL stores, a fetch handler with a
 * WebSocket relay, and the client and party drivers.
 * @module
 */
export * from './asset.js';
export * from './asset-file.js';
export * from './audit.js';
export * from './auth.js';
export * from './canonical.js';
export * from './client.js';
export * from './computations.js';
export * from './csv.js';
export * from './dp.js';
export * from './exchange.js';
export * from './http.js';
export * from './identity.js';
export * from './job.js';
export * from './job-driver.js';
export * from './ledger.js';
export * from './merkle.js';
export * from './node-http.js';
export * from './policy.js';
export * from './provider-node.js';
export * from './receipt.js';
export * from './relay-client.js';
export * from './relay-frame.js';
export * from './relay-server.js';
export * from './report.js';
export * from './roles.js';
export * from './runner.js';
export * from './runners/aggregate.js';
export * from './runners/aggregate-joint.js';
export * from './runners/dp-sgd.js';
export * from './runners/federated.js';
export * from './runners/federated-params.js';
export * from './runners/psi.js';
export * from './runners/wire.js';
export * from './schema.js';
export * from './service.js';
export * from './sqlite-driver.js';
export * from './store.js';
export * from './store-open.js';
export * from './store-postgres.js';
export * from './store-sqlite.js';
export * from './ticket.js';
export * from './ws-channel.js';
