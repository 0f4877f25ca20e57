/**
 * clipkit: OpenAI's CLIP, one notebook cell at a time.
 *
 * The public API. Every name here is re-exported from the file that defines it.
 * @module
 */

// CLIP's constants: normalisation, input size, context length, special tokens, the logit-scale clamp
export {
  CLIP_MEAN,
  CLIP_SIZE,
  CLIP_STD,
  CONTEXT_LENGTH,
  EOT_TOKEN,
  MAX_LOGIT_SCALE,
  SOT_TOKEN,
} from "./constants.ts";

// numbers
export {
  assertFinite,
  assertSameWidth,
  concatRows,
  matmulT,
  Matrix,
  scale,
  selectRows,
  transpose,
} from "./math/matrix.ts";

// similarity, contrastive loss, temperature
export type { Axis, Scored } from "./math/similarity.ts";
export { argmaxRows, logSoftmaxRow, normalize, similarity, softmax, topK } from "./math/similarity.ts";
export type { ClipLossOptions, ClipLossResult, TemperaturePoint } from "./math/loss.ts";
export {
  clipLoss,
  sigLipLoss,
  softmaxAtTemperatures,
  temperatureRange,
  temperatureSweep,
} from "./math/loss.ts";
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
export {
  accuracyOf,
  classWeights,
  embedImages,
  embedPrompts,
  evaluateScores,
  zeroShotClassifier,
} from "./zeroshot/classifier.ts";
export type {
  GreedyStep,
  PromptAnalysis,
  PromptAnalysisOptions,
  TemplateScore,
} from "./zeroshot/prompt_analysis.ts";
export { analyzePrompts, BARE_TEMPLATE, greedySelect } from "./zeroshot/prompt_analysis.ts";
export type { RetrievalMetrics, RetrievalOptions, RetrievalScores } from "./math/retrieval.ts";
export { RECALL_KS, retrievalFromScores, retrievalMetrics } from "./math/retrieval.ts";

// linear probes: logistic regression on frozen features, as the CLIP paper's scikit-learn probes, by L-BFGS
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
export type {
  LbfgsIteration,
  LbfgsOptions,
  LbfgsResult,
  LbfgsStop,
  ObjectiveFunction,
} from "./math/lbfgs.ts";
export { lbfgs, MoreThuente, SCIPY_FTOL } from "./math/lbfgs.ts";
export type { TemplateSet } from "./zeroshot/templates.ts";
export {
  assertTemplates,
  fillTemplate,
  loadPromptFile,
  parseTemplateFile,
  templates,
  templateSets,
} from "./zeroshot/templates.ts";
export type { CacheStats, TextEncoderLike } from "./zeroshot/text_cache.ts";
export { defaultCacheDir, TextEmbeddingCache } from "./zeroshot/text_cache.ts";

// the synthetic captioned-shapes world (data)
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
export type { Medium } from "./data/world.ts";
export { MEDIA, WORLD_IMAGE_SIZE } from "./data/world.ts";
// the shapes world as a zero-shot suite: every medium × task a dataset
export type {
  SuiteDataset,
  SuiteMedium,
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

// images: decoding and CLIP preprocessing, identical to PIL + torchvision
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
  preprocessInto,
  preprocessorOptions,
  preprocessWithCrop,
  Resample,
  resizeCropRGB,
  SUPPORTED_FORMATS,
  toRGBA,
} from "./image/mod.ts";

// text: CLIP's BPE tokenizer, exact
export type { EncodeOptions, TokenBatch, TokenizeOptions } from "./text/tokenizer.ts";
export { ClipTokenizer, tokenLengths } from "./text/tokenizer.ts";
export { byteAlphabet, bytesToUnicode } from "./text/bpe.ts";
export type { Vocabulary, WrittenTokenizerFiles } from "./text/vocabulary.ts";
export { readVocabulary, vocabularyFromMerges, writeHfTokenizerFiles } from "./text/vocabulary.ts";
export { htmlUnescape, pyLower, pyStrip, whitespaceClean } from "./text/clean.ts";
export { fixMojibake, fixText } from "./text/ftfy.ts";

// plots: figures rendered to SVG/PNG, shown inline in Jupyter
export {
  diagonalWins,
  Figure,
  InteractiveFigure,
  pickerSample,
  pickerState,
  plots,
  trainingPoints,
} from "./plot/mod.ts";
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

// encoders: ONNX runtimes, CLIP model directories, progress bars, hub downloads
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
export { DTYPE_SUFFIX, readClipConfig } from "./model/config.ts";
export type { ArchitecturePreset, ClipArchitecture } from "./model/architecture.ts";
export {
  initWeights,
  loadArchitecture,
  parameterCount,
  validateArchitecture,
  visionTokens,
  weightShapes,
} from "./model/architecture.ts";
export type { Backend, BackendChoice, GraphValue, Runtime, RuntimeOptions } from "./model/runtime.ts";
export { graphInputs, graphOutputs, loadRuntime } from "./model/runtime.ts";
export type { ProgressCallback, ProgressOptions, ProgressOutput, ProgressUpdate } from "./model/progress.ts";
export { formatProgress, Progress } from "./model/progress.ts";
export type { FetchedFile, FetchModelOptions, FetchModelResult, RepoFile } from "./model/hub.ts";
export { fetchModel, listRepoFiles, selectModelFiles } from "./model/hub.ts";
export { selectCheckpointFiles } from "./model/hub.ts";
// PyTorch checkpoints (open_clip, Hugging Face safetensors) → ONNX, once, into a content-keyed cache
export type {
  CheckpointFolder,
  CheckpointLayout,
  CheckpointPlan,
  ConversionOptions,
  PrepareCheckpointOptions,
  PreparedCheckpoint,
} from "./model/checkpoint.ts";
export {
  checkpointCacheDir,
  findCheckpoint,
  prepareCheckpoint,
  readCheckpointPlan,
} from "./model/checkpoint.ts";
export type { CheckpointNaming, LayoutChange, WeightSource } from "./model/checkpoint_names.ts";
export { assembleWeights, checkWeights, weightSources } from "./model/checkpoint_names.ts";
export type { SafetensorsDtype, TensorInfo } from "./model/safetensors.ts";
export { SAFETENSORS_DTYPES, SafetensorsFile } from "./model/safetensors.ts";

// your own pictures: image folders, caption files, embedding folders in clip-retrieval's layout, exact search
export type {
  BatchesOptions,
  DatasetItem,
  FailedImage,
  ImageBatch,
  OnImageError,
  SkippedFile,
} from "./data/dataset.ts";
export { IMAGE_EXTENSIONS, ImageDataset } from "./data/dataset.ts";
export type { FolderItem, ImageFolderOptions } from "./data/image_folder.ts";
export { CLASSES_FILE, ImageFolder, loadImageFiles, loadImageFolder } from "./data/image_folder.ts";
export type { CaptionFileOptions, CaptionItem } from "./data/caption_file.ts";
export { CAPTION_COLUMNS, CaptionDataset, IMAGE_COLUMNS, loadCaptions } from "./data/caption_file.ts";
export type { ShapesFolder, ShapesFolderOptions } from "./data/shapes_folder.ts";
export { writeShapesFolder } from "./data/shapes_folder.ts";
export type { NpyArray, NpyDtype } from "./data/npy.ts";
export { decodeNpy, encodeNpy, readNpy } from "./data/npy.ts";
export type {
  EmbeddingFolder,
  EmbedManifest,
  ShardData,
  ShardInfo,
  ShardMetadata,
} from "./data/embedding_shards.ts";
export {
  completeShards,
  openEmbeddingFolder,
  readShardEmbeddings,
  readShardMetadata,
  writeShard,
} from "./data/embedding_shards.ts";
export type { DatasetEmbeddings, EmbedDatasetOptions, ImageEmbedder } from "./model/embed_dataset.ts";
export { embedBatches, embedDataset } from "./model/embed_dataset.ts";
export type { ExportOptions, ExportResult } from "./model/embedding_export.ts";
export { exportEmbeddings } from "./model/embedding_export.ts";
export { contentHash, defaultImageCacheDir, ImageEmbeddingCache } from "./zeroshot/image_cache.ts";
export type { ZeroShotReport, ZeroShotReportOptions } from "./zeroshot/report.ts";
export { reportJson, stratifiedSplit, zeroShotReport, zeroShotReportFigures } from "./zeroshot/report.ts";
export type { SearchHit } from "./math/search.ts";
export { ExactSearch, searchTopK } from "./math/search.ts";

// errors: ClipkitError and every subclass, each with a `fix` (all from their one home, src/errors.ts)
export * from "./errors.ts";
