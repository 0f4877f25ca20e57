/**
 * clipkit's training package: the training engine (one ONNX graph per step: forward, reverse-mode
 * gradients and AdamW, run by onnxruntime-node or -web) and its parameter layout. Re-exports only.
 * @module
 */
export {
  ADAMW_DEFAULTS,
  type AdamWSettings,
  adamwSteps,
  type AdamWStepsOptions,
  forwardGraph,
  gradientGraph,
  type GradientOptions,
  lossAndGradients,
  type OptimizerState,
  type SessionOptions,
  type TrainBatch,
  trainingGraph,
  TrainingSession,
} from "./engine/session.ts";
export {
  type EngineArchitecture,
  flatten,
  fromKitWeights,
  initStateDict,
  isDecayed,
  type Layout,
  layoutOf,
  type Objective,
  parameterShapes,
  type TextEncoder,
  toKitWeights,
  unflatten,
} from "./engine/layout.ts";
export {
  imageTowerMacs,
  initSupervisedStateDict,
  supervisedForwardGraph,
  supervisedGradientGraph,
  supervisedLayout,
  SupervisedSession,
  type SupervisedSessionOptions,
  supervisedShapes,
  supervisedTrainingGraph,
} from "./engine/supervised.ts";
export {
  imageFeaturesGraph,
  ObjectiveScorer,
  type PromptIds,
  promptScoreGraph,
  type ScorerOptions,
  textFeaturesGraph,
} from "./engine/scoring.ts";
