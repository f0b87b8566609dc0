/**
 * DP-SGD for a provider's local training, from @unseen/federated (Abadi et al. 2016, with
 * per-example clipping that survives non-finite gradients and fixed-size batches for noiseless
 * jobs); re-exported here, where the federated runner and its users have always found it.
 * @module
 */
export { type DpSgdConfig, dpSgd, dpSgdPrivacy } from '@unseen/federated';
