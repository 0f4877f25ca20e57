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
export type { EncodeOptions, TokenBatch, TokenizeOptions } from "./text/tokenizer.ts";
export { ClipTokenizer, tokenLengths } from "./text/tokenizer.ts";
export { bytesToUnicode } from "./text/bpe.ts";
export type { Vocabulary, WrittenTokenizerFiles } from "./text/vocabulary.ts";
export { readVocabulary, vocabularyFromMerges, writeHfTokenizerFiles } from "./text/vocabulary.ts";
export { htmlUnescape, pyLower, whitespaceClean } from "./text/clean.ts";
export { fixText } from "./text/ftfy.ts";

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
} from "./model/clip_model.ts";
export { ClipModel, Embeddings } from "./model/clip_model.ts";
export type { ClipConfig, Dtype, LogitScaleSource } from "./model/config.ts";
export type { Backend, BackendChoice, Runtime } from "./model/runtime.ts";
export type { ProgressCallback, ProgressOptions, ProgressOutput, ProgressUpdate } from "./model/progress.ts";
export { Progress } from "./model/progress.ts";
export type { FetchedFile, FetchModelOptions, FetchModelResult, RepoFile } from "./model/hub.ts";
export { fetchModel } from "./model/hub.ts";
export type { ArchitecturePreset, ClipArchitecture } from "./model/architecture.ts";
export { loadArchitecture, parameterCount } from "./model/architecture.ts";
export type {
  CheckpointFolder,
  CheckpointLayout,
  ConversionOptions,
  PrepareCheckpointOptions,
  PreparedCheckpoint,
} from "./model/checkpoint.ts";
export { findCheckpoint, prepareCheckpoint } from "./model/checkpoint.ts";
export type { SafetensorsDtype, TensorInfo } from "./model/safetensors.ts";
export { SafetensorsFile } from "./model/safetensors.ts";

// ── numbers: matrices, similarity, softmax, contrastive losses, temperature, retrieval ──
export { concatRows, Matrix, selectRows, transpose } from "./math/matrix.ts";
export type { Axis, Scored } from "./math/similarity.ts";
export { normalize, similarity, softmax, topK } from "./math/similarity.ts";
export type { ClipLossOptions, ClipLossResult, TemperaturePoint } from "./math/loss.ts";
export {
  clipLoss,
  sigLipLoss,
  softmaxAtTemperatures,
  temperatureRange,
  temperatureSweep,
} from "./math/loss.ts";
export type { RetrievalMetrics, RetrievalOptions, RetrievalScores } from "./math/retrieval.ts";
export { retrievalFromScores, retrievalMetrics } from "./math/retrieval.ts";
export type { SearchHit } from "./math/search.ts";
export { ExactSearch, searchTopK } from "./math/search.ts";

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
} from "./zeroshot/classifier.ts";
export { classWeights, embedPrompts, zeroShotClassifier } from "./zeroshot/classifier.ts";
export type {
  GreedyStep,
  PromptAnalysis,
  PromptAnalysisOptions,
  TemplateScore,
} from "./zeroshot/prompt_analysis.ts";
export { analyzePrompts, BARE_TEMPLATE, greedySelect } from "./zeroshot/prompt_analysis.ts";
export type { TemplateSet } from "./zeroshot/templates.ts";
export {
  fillTemplate,
  loadPromptFile,
  parseTemplateFile,
  templates,
  templateSets,
} from "./zeroshot/templates.ts";
export type { CacheStats, TextCacheOptions, TextEncoderLike } from "./zeroshot/text_cache.ts";
export { TextEmbeddingCache } from "./zeroshot/text_cache.ts";
export type { ImageCacheStats } from "./zeroshot/image_cache.ts";
export { ImageEmbeddingCache } from "./zeroshot/image_cache.ts";
export type { ReportModel, ZeroShotReport, ZeroShotReportOptions } from "./zeroshot/report.ts";
export { zeroShotReport, zeroShotReportFigures } from "./zeroshot/report.ts";

// ── linear probes: logistic regression on frozen features by L-BFGS, as the CLIP paper's scikit-learn probes ──
export type {
  LabeledFeatures,
  LinearProbe,
  LinearProbeOptions,
  ProbeFeatures,
  ProbeLabels,
  SweepOptions,
  SweepPoint,
} from "./math/linear_probe.ts";
export { linearProbe } from "./math/linear_probe.ts";
export type { LbfgsStop } from "./math/lbfgs.ts";

// ── your own pictures: image folders, caption files, embeddings out in clip-retrieval's layout ──
export type {
  BatchesOptions,
  DatasetItem,
  FailedImage,
  ImageBatch,
  OnImageError,
  SkippedFile,
} from "./data/dataset.ts";
export { ImageDataset } from "./data/dataset.ts";
export type { FolderItem, ImageFolderOptions } from "./data/image_folder.ts";
export { ImageFolder, loadImageFiles, loadImageFolder } from "./data/image_folder.ts";
export type { CaptionFileOptions, CaptionItem } from "./data/caption_file.ts";
export { CaptionDataset, loadCaptions } from "./data/caption_file.ts";
export type { NpyArray, NpyDtype } from "./data/npy.ts";
export { decodeNpy, encodeNpy, readNpy } from "./data/npy.ts";
export type {
  EmbeddingFolder,
  EmbedManifest,
  ShardFiles,
  ShardInfo,
  ShardMetadata,
} from "./data/embedding_shards.ts";
export { openEmbeddingFolder } from "./data/embedding_shards.ts";
export type { DatasetEmbeddings, EmbedDatasetOptions, ImageEmbedder } from "./model/embed_dataset.ts";
export { embedDataset } from "./model/embed_dataset.ts";
export type { ExportModel, ExportOptions, ExportResult } from "./model/embedding_export.ts";
export { exportEmbeddings } from "./model/embedding_export.ts";

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
} from "./data/shapes.ts";
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
} from "./data/shapes.ts";
export type { WorldMedium } from "./data/shapes.ts";
export type { Medium, MediumChoice } from "./data/world.ts";
export type { Rng } from "./data/random.ts";
export { MEDIA, WORLD_IMAGE_SIZE } from "./data/world.ts";
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
} from "./data/suite.ts";
export {
  evaluateSuite,
  SUITE_MEDIA,
  SUITE_TASKS,
  suiteDatasets,
  suiteImages,
  suiteTableText,
} from "./data/suite.ts";
export type { ShapesFolder, ShapesFolderOptions } from "./data/shapes_folder.ts";
export { writeShapesFolder } from "./data/shapes_folder.ts";

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
