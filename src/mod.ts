/**
 * clipkit: OpenAI's CLIP, one notebook cell at a time.
 *
 * The public API, grouped by what it is for. Every name is re-exported from the one file that defines it;
 * the packages' own internals (buffers, graph plumbing, format helpers) stay in their folders.
 *
 * text ─► ClipTokenizer ─► ids ─┐
 *                               ├─► ClipModel ─► Embeddings ─► similarity / losses / zero-shot / probes ─► plots
 * image ─► loadImage ─► preprocess ┘
 * @module
 */

// ── CLIP's constants: normalisation, input size, context length, special tokens, the logit-scale clamp ──
export {
  CLIP_MEAN,
  CLIP_SIZE,
  CLIP_STD,
  CONTEXT_LENGTH,
  EOT_TOKEN,
  MAX_LOGIT_SCALE,
  SOT_TOKEN,
} from "./constants.ts";

// ── text: CLIP's byte-level BPE tokenizer, exactly as clip.tokenize ──
export type { EncodeOptions, TokenBatch, TokenizeOptions } from "./text/mod.ts";
export { ClipTokenizer, tokenLengths } from "./text/mod.ts";
export { bytesToUnicode } from "./text/mod.ts";
export type { Vocabulary, WrittenTokenizerFiles } from "./text/mod.ts";
export { readVocabulary, vocabularyFromMerges, writeHfTokenizerFiles } from "./text/mod.ts";
export { htmlUnescape, pyLower, whitespaceClean } from "./text/mod.ts";
export { fixText } from "./text/mod.ts";

// ── images: decoding and CLIP preprocessing, identical to PIL + torchvision ──
export type {
  DecodedImage,
  ImageFormat,
  ImageMode,
  JpegDecoder,
  LoadImageOptions,
  PreprocessOptions,
  ResampleFilter,
  RGBImage,
} from "./image/mod.ts";
export {
  CLIP_PREPROCESS,
  decodeImage,
  encodePng,
  fromRGBA,
  loadImage,
  MAX_IMAGE_PIXELS,
  preprocess,
  preprocessBatch,
  preprocessorOptions,
  preprocessWithCrop,
  Resample,
  SUPPORTED_FORMATS,
  toRGBA,
} from "./image/mod.ts";

// ── encoders: CLIP model folders on onnxruntime-node / -web, progress bars, downloads, real checkpoints ──
export type {
  ClipLogits,
  EncoderOptions,
  ImageInput,
  ModelLoadOptions,
  TextEncoderOptions,
  TokenIds,
} from "./model/mod.ts";
export { ClipModel, Embeddings } from "./model/mod.ts";
export type { ClipConfig, Dtype, LogitScaleSource } from "./model/mod.ts";
export type { Backend, BackendChoice, Runtime } from "./model/mod.ts";
export type { ProgressCallback, ProgressOptions, ProgressOutput, ProgressUpdate } from "./model/mod.ts";
export { Progress } from "./model/mod.ts";
export type { FetchedFile, FetchModelOptions, FetchModelResult, RepoFile } from "./model/mod.ts";
export { fetchModel } from "./model/mod.ts";
export type { ArchitecturePreset, ClipArchitecture } from "./model/mod.ts";
export { loadArchitecture, parameterCount } from "./model/mod.ts";
export type {
  CheckpointFolder,
  CheckpointLayout,
  ConversionOptions,
  PrepareCheckpointOptions,
  PreparedCheckpoint,
} from "./model/mod.ts";
export { findCheckpoint, prepareCheckpoint } from "./model/mod.ts";
export type { SafetensorsDtype, TensorInfo } from "./model/mod.ts";
export { SafetensorsFile } from "./model/mod.ts";

// ── numbers: matrices, similarity, softmax, contrastive losses, temperature, retrieval ──
export { concatRows, Matrix, selectRows, transpose } from "./math/mod.ts";
export type { Axis, Scored } from "./math/mod.ts";
export { normalize, similarity, softmax, topK } from "./math/mod.ts";
export type { ClipLossOptions, ClipLossResult, TemperaturePoint } from "./math/mod.ts";
export {
  clipLoss,
  sigLipLoss,
  softmaxAtTemperatures,
  temperatureRange,
  temperatureSweep,
} from "./math/mod.ts";
export type { RetrievalMetrics, RetrievalOptions, RetrievalScores } from "./math/mod.ts";
export { retrievalFromScores, retrievalMetrics } from "./math/mod.ts";
export type { SearchHit } from "./math/mod.ts";
export { ExactSearch, searchTopK } from "./math/mod.ts";

// ── zero-shot: class heads from prompts, template sets, prompt analysis, the embedding caches ──
export type {
  ClassName,
  Evaluation,
  ImageEncoderLike,
  ImagesOrEmbeddings,
  LabeledImages,
  Prediction,
  PromptEmbeddings,
  ZeroShotClassifier,
  ZeroShotModel,
  ZeroShotOptions,
} from "./zeroshot/mod.ts";
export { classWeights, embedPrompts, zeroShotClassifier } from "./zeroshot/mod.ts";
export type { GreedyStep, PromptAnalysis, PromptAnalysisOptions, TemplateScore } from "./zeroshot/mod.ts";
export { analyzePrompts, BARE_TEMPLATE, greedySelect } from "./zeroshot/mod.ts";
export type { TemplateSet } from "./zeroshot/mod.ts";
export { fillTemplate, loadPromptFile, parseTemplateFile, templates, templateSets } from "./zeroshot/mod.ts";
export type { CacheStats, TextCacheOptions, TextEncoderLike } from "./zeroshot/mod.ts";
export { TextEmbeddingCache } from "./zeroshot/mod.ts";
export type { ImageCacheStats } from "./zeroshot/mod.ts";
export { ImageEmbeddingCache } from "./zeroshot/mod.ts";
export type { ReportModel, ZeroShotReport, ZeroShotReportOptions } from "./zeroshot/mod.ts";
export { zeroShotReport, zeroShotReportFigures } from "./zeroshot/mod.ts";

// ── linear probes: logistic regression on frozen features by L-BFGS, as the CLIP paper's scikit-learn probes ──
export type {
  LabeledFeatures,
  LinearProbe,
  LinearProbeOptions,
  ProbeFeatures,
  ProbeLabels,
  SweepOptions,
  SweepPoint,
} from "./math/mod.ts";
export { linearProbe } from "./math/mod.ts";
export type { LbfgsStop } from "./math/mod.ts";

// ── your own pictures: image folders, caption files, embeddings out in clip-retrieval's layout ──
export type {
  BatchesOptions,
  DatasetItem,
  FailedImage,
  ImageBatch,
  OnImageError,
  SkippedFile,
} from "./data/mod.ts";
export { ImageDataset } from "./data/mod.ts";
export type { FolderItem, ImageFolderOptions } from "./data/mod.ts";
export { ImageFolder, loadImageFiles, loadImageFolder } from "./data/mod.ts";
export type { CaptionFileOptions, CaptionItem } from "./data/mod.ts";
export { CaptionDataset, loadCaptions } from "./data/mod.ts";
export type { NpyArray, NpyDtype } from "./data/mod.ts";
export { decodeNpy, encodeNpy, readNpy } from "./data/mod.ts";
export type { EmbeddingFolder, EmbedManifest, ShardFiles, ShardInfo, ShardMetadata } from "./data/mod.ts";
export { openEmbeddingFolder } from "./data/mod.ts";
export type { DatasetEmbeddings, EmbedDatasetOptions, ImageEmbedder } from "./model/mod.ts";
export { embedDataset } from "./model/mod.ts";
export type { ExportModel, ExportOptions, ExportResult } from "./model/mod.ts";
export { exportEmbeddings } from "./model/mod.ts";

// ── the synthetic captioned-shapes world: the data the shipped tiny CLIP learned from ──
export type {
  Batch,
  BatchOptions,
  Colour,
  ComboSet,
  Example,
  ExampleOptions,
  Scene as ShapesScene,
  Shape,
  ShapesTask,
  Split,
} from "./data/mod.ts";
export {
  classNames as shapesClassNames,
  COLOURS,
  exampleSeed,
  generateBatch,
  generateCaptions,
  generateExample,
  HELD_OUT,
  isHeldOut,
  SHAPES,
  WORLD_MEDIA,
} from "./data/mod.ts";
export type { WorldMedium } from "./data/mod.ts";
export type { Medium, MediumChoice } from "./data/mod.ts";
export type { Rng } from "./data/mod.ts";
export { MEDIA, WORLD_IMAGE_SIZE } from "./data/mod.ts";
// the shapes world as a zero-shot suite: every medium × task is a dataset
export type {
  SuiteDataset,
  SuiteImages,
  SuiteMedium,
  SuiteModel,
  SuiteOptions,
  SuiteRow,
  SuiteTable,
  SuiteTask,
} from "./data/mod.ts";
export {
  evaluateSuite,
  SUITE_MEDIA,
  SUITE_TASKS,
  suiteDatasets,
  suiteImages,
  suiteTableText,
  suiteTemplates,
} from "./data/mod.ts";
export type { ShapesFolder, ShapesFolderOptions } from "./data/mod.ts";
export { writeShapesFolder } from "./data/mod.ts";

// ── figures: SVG/PNG shown inline in Jupyter, and interactive HTML forms that run in the page ──
export { Figure, InteractiveFigure, pickerSample, pickerState, plots, trainingPoints } from "./plot/mod.ts";
export type {
  ConfusionOptions,
  EmbeddingMapOptions,
  FigureBytes,
  HeatmapOptions,
  MatrixLike,
  Pixels,
  ReplayCheckpoint,
  TemperatureOptions,
  TemperatureSliderOptions,
  TemplateGainsData,
  TemplatePickerOptions,
  TemplatePickerState,
  Thumbnail,
  TrainingCurvesOptions,
  TrainingLog,
  TrainingPoint,
  TrainingReplayOptions,
  ZeroShotBarsOptions,
} from "./plot/mod.ts";

// ── errors: ClipkitError and every subclass, each with a `fix` (one home: src/errors.ts) ──
export * from "./errors.ts";
