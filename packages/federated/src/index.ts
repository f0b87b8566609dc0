/**
 * @unseen/federated: federated averaging (McMahan et al. 2017) as sans-I/O server and client
 * state machines with Channel runners; plain, secure (SecAgg) or homomorphic (BFV)
 * aggregation; client-level differential privacy with a Rényi-DP accountant; reference models
 * (softmax regression, a one-hidden-layer MLP) in typed arrays; and a simulator for research.
 * @module
 */
export * from './aggregation/encoding.js';
export * from './aggregation/homomorphic.js';
export * from './aggregation/plain.js';
export * from './aggregation/secure.js';
export * from './aggregation/types.js';
export * from './client.js';
export * from './dp.js';
export * from './dp-sgd.js';
export * from './models/dataset.js';
export * from './models/mlp.js';
export * from './models/model.js';
export * from './models/softmax.js';
export * from './random.js';
export * from './rdp.js';
export * from './report.js';
export * from './runner.js';
export * from './server.js';
export * from './simulate.js';
export * from './splits.js';
export * from './tensors.js';
export * from './wire.js';
