/**
 * @unseen/secure-aggregation: the secure aggregation protocol of Bonawitz et al. (CCS 2017) and
 * its SecAgg+ variant over a sparse neighbour graph (Bell et al., CCS 2020), with dropout recovery,
 * as sans-I/O client and server state machines, Channel runners, an in-process simulator and a
 * one-call aggregation of weighted real-valued updates.
 * @module
 */
export {
  type AeadBackend,
  aesGcmDecrypt,
  aesGcmEncrypt,
} from './aead.js';
export {
  analyseGraph,
  assessParams,
  DEFAULT_THREAT_MODEL,
  type GraphAnalysis,
  type MinimumParameters,
  type MinimumParametersInput,
  minimumParameters,
  minimumThreshold,
  type ParameterAssessment,
  type ThreatModel,
  threatModel,
} from './analysis.js';
export {
  type ClientIdentity,
  type ClientStage,
  SecAggClient,
  type SecAggClientOptions,
} from './client.js';
export { NeighbourGraph } from './graph.js';
export type { ComputeOptions } from './masks.js';
export {
  checkParams,
  defaultThreshold,
  groupSize,
  inputWords,
  MAX_CLIENTS,
  MAX_GROUP,
  MAX_LENGTH,
  ROUNDS,
  type SecAggParams,
  type SecAggParamsInput,
  type SecAggRound,
  secAggParams,
} from './params.js';
export {
  type ClientFailure,
  type RunClientOptions,
  type RunClientResult,
  type RunServerOptions,
  type RunServerResult,
  runSecAggClient,
  runSecAggServer,
} from './runner.js';
export {
  type AggregationResult,
  SecAggServer,
  type SecAggServerOptions,
  type ServerStage,
  type ServerStep,
} from './server.js';
export {
  type SimulateOptions,
  type SimulateResult,
  type SimulationBytes,
  type SimulationTimings,
  simulate,
} from './simulate.js';
export {
  type AggregateUpdatesOptions,
  type AggregateUpdatesResult,
  aggregateUpdates,
  type DecodedAggregate,
  decodeAggregate,
  encodedUpdateLength,
  encodeUpdate,
  type UpdateEncoding,
  type UpdateEncodingInput,
  updateEncoding,
} from './updates.js';
