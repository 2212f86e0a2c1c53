/**
 * blend: neural population dynamics with behavior as a guide, for Deno.
 *
 * This module is the public API. Start a compute backend, make or load a
 * `NeuralDataset`, and work with plain typed arrays (`Array3`) everywhere.
 *
 * @example
 * ```ts
 * import { initBackend, reachDataset, summarizeDataset } from "./mod.ts";
 * await initBackend();                         // webgpu > wasm > cpu
 * const data = reachDataset({ trials: 300 });  // synthetic MC_Maze-like reaching
 * console.log(summarizeDataset(data));
 * ```
 * @module
 */

// Compute backends
export {
  type AdapterInfo,
  type BackendInfo,
  backendInfo,
  type BackendName,
  BACKENDS,
  describeMatMul,
  initBackend,
  type InitBackendOptions,
  probeAdapter,
  type WasmMatMul,
} from "./lib/backend.ts";
export { type BlasInfo } from "./lib/kernels/wasm_blas.ts";

// Arrays, randomness, numerics
export {
  type Array3,
  array3,
  assertArray3,
  channelMeans,
  concat3,
  type FloatArray,
  type FloatKind,
  get3,
  index3,
  selectTrials,
  type Shape3,
  size3,
  sliceTime,
  trialMean,
} from "./lib/array.ts";
export { deriveSeed, Random } from "./lib/random.ts";
export {
  logGamma,
  logspace,
  meanStd,
  normalSf,
  signTest,
  summarize,
  type WilcoxonResult,
  wilcoxonSignedRank,
} from "./lib/math.ts";
export {
  ArgumentError,
  BackendError,
  BlendError,
  CheckpointError,
  DatasetError,
  TrainingError,
} from "./lib/errors.ts";
export { writeBytesAtomic, writeJsonAtomic, writeTextAtomic } from "./lib/io.ts";

// Datasets
export {
  type BehaviorScaling,
  behaviorScaling,
  type DatasetSummary,
  type DatasetTruth,
  minibatches,
  type NeuralDataset,
  type Split,
  splitDataset,
  SPLITS,
  subsetTrials,
  summarizeDataset,
  trialsInSplit,
  type TruePSTH,
  validateDataset,
  type ValidateOptions,
  zscoreBehavior,
} from "./lib/data/dataset.ts";
export { REACH_DEFAULTS, reachDataset, type ReachOptions } from "./lib/data/synthetic/reach.ts";
export { LORENZ_DEFAULTS, lorenzDataset, type LorenzOptions } from "./lib/data/synthetic/lorenz.ts";
export type { SplitFractions } from "./lib/data/synthetic/population.ts";

// Neural Latents Benchmark metrics
export {
  bitsPerSpike,
  coBps,
  conditionPSTH,
  type DecodeMasks,
  DEFAULT_ALPHAS,
  evaluateNLB,
  type EvaluateNLBOptions,
  fpBps,
  gaussianWindow,
  nlbDecodeMasks,
  type NLBRecord,
  poissonNLL,
  psthR2,
  type PsthR2Options,
  type RateSet,
  smoothSpikes,
  truthRates,
  velR2,
  type VelR2Decoder,
  type VelR2Options,
  type VelR2Result,
} from "./lib/metrics/nlb.ts";

// Ground-truth recovery (synthetic data)
export {
  type LatentRecovery,
  type RateRecovery,
  type TruthPrediction,
  truthRecovery,
  type TruthRecoveryOptions,
  type TruthRecoveryRecord,
} from "./lib/metrics/truth.ts";

// Regression and classification
export {
  fitRidge,
  fitRidgeCV,
  kFoldBounds,
  type Matrix,
  predictRidge,
  r2PerTarget,
  r2Score,
  type RidgeCVResult,
  type RidgeModel,
  solveSPD,
  trialsAsRows,
} from "./lib/metrics/regression.ts";
export {
  accuracy,
  balancedAccuracy,
  type ConfusionMatrix,
  confusionMatrix,
  type Labels,
  macroF1,
} from "./lib/metrics/classification.ts";

// Sequence models
export {
  type BaseConfig,
  COMPACT_MODELS,
  countParameters,
  createModel,
  type DataShape,
  type ForwardOptions,
  type LFADSConfig,
  MODEL_KINDS,
  type ModelConfig,
  type ModelConfigInput,
  type ModelInputs,
  type ModelKind,
  type ModelOutputs,
  type NDTConfig,
  type PrivilegedSpec,
  resolveConfig,
  type RNNConfig,
  type SequenceModel,
  type TrainingProgress,
} from "./lib/models/model.ts";
export { NDT_DEFAULTS, type NDTOptions } from "./lib/models/ndt.ts";
export type { AttentionKernel } from "./lib/models/layers.ts";
export { RNN_DEFAULTS, type RNNOptions } from "./lib/models/rnn.ts";
export { LFADS_DEFAULTS, type LFADSOptions } from "./lib/models/lfads.ts";
export {
  fitPoissonGLM,
  fitPoissonGLMPath,
  fitSmoothingBaseline,
  type PenaltySelection,
  type PoissonGLM,
  type PoissonGLMOptions,
  predictPoissonGLM,
  SMOOTHING_ALPHAS,
  type SmoothingBaseline,
  type SmoothingBaselineOptions,
} from "./lib/models/smoothing.ts";

// Training
export {
  type Batch,
  checkModelFitsData,
  dataShape,
  gatherBatch,
  privilegedSignal,
  privilegedSpec,
  privilegedWidth,
} from "./lib/train/batch.ts";
export {
  type EpochRecord,
  fit,
  type FitOptions,
  type FitResult,
  type LossContext,
  type Objective,
} from "./lib/train/trainer.ts";
export { recipeFor, RECIPES, type Schedule, type TrainingRecipe } from "./lib/train/recipe.ts";
export {
  type BehaviorTargetObjective,
  behaviorTargetObjective,
  type BehaviorTargetOptions,
} from "./lib/train/multitask.ts";
export { predict, type Prediction, type PredictOptions } from "./lib/train/predict.ts";
export {
  MASK_MODES,
  MASKING_DEFAULTS,
  type MaskingOptions,
  type MaskMode,
  resolveMasking,
} from "./lib/train/masking.ts";
export { maskedPoissonLoss } from "./lib/train/losses.ts";
export { AdamW, ADAMW_DEFAULTS, type AdamWOptions, learningRateAt } from "./lib/train/optimizer.ts";
export {
  describeProgress,
  type ProgressEvent,
  type ProgressMode,
  progressReporter,
} from "./lib/train/progress.ts";
export {
  assignWeights,
  type Checkpoint,
  type CheckpointExtras,
  loadModel,
  modelWeights,
  readCheckpoint,
  saveCheckpoint,
} from "./lib/train/checkpoint.ts";
export {
  type DecodedSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  type NamedTensor,
  type SafetensorsArrays,
  type SafetensorsData,
  type SafetensorsDtype,
} from "./lib/train/safetensors.ts";

// BLEND: behavior-guided privileged distillation
export {
  correlationLoss,
  correlationMatrices,
  createStrategy,
  type DistillOutputs,
  frozen,
  hardLoss,
  softLoss,
  STRATEGIES,
  type Strategy,
  type StrategyName,
  type StrategyOptions,
} from "./lib/distill/strategies.ts";
export {
  buildModel,
  distillationObjective,
  type DistillOptions,
  distillStudent,
  type FeatureLayer,
  type ModelSpec,
  type TeacherTargets,
  teacherTargets,
  trainTeacher,
} from "./lib/distill/blend.ts";
export {
  type BlendExperimentSpec,
  datasetFromSpec,
  type DataSpec,
  type ParallelOptions,
  runBlendExperimentInWorkers,
} from "./lib/distill/parallel.ts";
export {
  type ArmSummary,
  assembleResults,
  type BehaviorEffect,
  behaviorEffectRows,
  behaviorEffects,
  BLEND_METRICS,
  type BlendExperimentOptions,
  type BlendMetric,
  type BlendResults,
  type ControlOptions,
  type DataReferences,
  dataReferences,
  formatResultsMarkdown,
  formatResultsTable,
  type PairedDifference,
  pairedDifference,
  resultsCsv,
  resultsHtml,
  resultsTableRows,
  type Role,
  RUN_METRICS,
  runBlendExperiment,
  type RunRecord,
  summarizeRuns,
  TRUTH_METRICS,
  withDisplay,
  writeResults,
} from "./lib/distill/experiment.ts";

// Figures (Observable Plot, SVG and PNG, inline in Jupyter)
export { type DomElement, type PlotDocument, plotDocument, SVG_NS } from "./lib/plot/document.ts";
export {
  asFigure,
  type Figure,
  type FigureMimeBundle,
  figureToSvg,
  type PngOptions,
  saveFigure,
  svgToPng,
} from "./lib/plot/output.ts";
export {
  METRIC_LABELS,
  strategyComparisonFigure,
  type StrategyComparisonOptions,
  type StrategyRow,
} from "./lib/plot/comparison.ts";
export {
  type CurveRow,
  trainingCurvesFigure,
  type TrainingCurvesOptions,
} from "./lib/plot/curves.ts";
export {
  comparisonFigureSvg,
  comparisonRows,
  curveRows,
  experimentComparisonFigure,
  saveExperimentFigures,
} from "./lib/plot/report.ts";
export {
  attachDisplay,
  escapeHtml,
  formatCell,
  htmlTable,
  JUPYTER_DISPLAY,
  type MimeBundle,
} from "./lib/html.ts";

// Real data: NWB / NLB files, saved datasets, submissions
export {
  loadNWB,
  type NWBDataset,
  type NWBLoadOptions,
  type NWBSettings,
  type NWBSource,
  resolveNWBSettings,
} from "./lib/data/nwb.ts";
export {
  NLB_PRESETS,
  type NLBPreset,
  type NLBPresetName,
  type TrialLayout,
} from "./lib/data/nlb_presets.ts";
export {
  describeNWB,
  formatNWBInfo,
  type NWBInfo,
  type TimeSeriesSummary,
  type TrialColumnSummary,
} from "./lib/data/nwb_info.ts";
export type { TimeSeriesInfo } from "./lib/data/nwb_series.ts";
export { type TrialColumn } from "./lib/data/nwb_tables.ts";
export {
  behaviorSeriesOf,
  NLB_SPLIT_LABELS,
  type NWBFixtureLayout,
  writeNWB,
  type WriteNWBOptions,
} from "./lib/data/nwb_writer.ts";
export {
  DATASET_FORMAT,
  DATASET_FORMAT_VERSION,
  loadDataset,
  NLB_DATASET_NAMES,
  type NLBDatasetName,
  nlbGroupName,
  type NLBSubmissionEntry,
  readNLBSubmission,
  saveDataset,
  type SubmissionRates,
  writeNLBSubmission,
} from "./lib/data/store.ts";
export { type NeuralFigureOptions } from "./lib/plot/layout.ts";
export { rasterFigure, type RasterFigureInput } from "./lib/plot/raster.ts";
export { ratesVsTruthFigure, type RatesVsTruthInput } from "./lib/plot/rates.ts";
export { psthFigure, type PsthFigureInput } from "./lib/plot/psth.ts";
export { latentTrajectoriesFigure, type LatentTrajectoriesInput } from "./lib/plot/latents.ts";
export { decodingFigure, type DecodingFigureInput } from "./lib/plot/decoding.ts";
export { type DataMatrix, pca, pcaProject, type PcaResult, symmetricEigen } from "./lib/pca.ts";
