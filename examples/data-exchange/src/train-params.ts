/** What the shop trains: a default-risk model from age, income and debt, over 3 FedAvg rounds. */
export const TRAIN_PARAMS = {
  features: [
    { column: 'age', lower: 18, upper: 70 },
    { column: 'income', lower: 0, upper: 10_000 },
    { column: 'debt', lower: 0, upper: 15_000 },
  ],
  label: { column: 'defaulted', classes: 2 },
  rounds: 3,
  localSteps: 15,
  samplingRate: 0.1,
  learningRate: 2,
  clipNorm: 1,
  noiseMultiplier: 1.5,
  seed: 7,
};
