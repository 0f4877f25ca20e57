/**
 * clipkit: OpenAI's CLIP, one notebook cell at a time.
 *
 * The public API. Every name here is re-exported from the file that defines it.
 * @module
 */

// numbers
export {
  assertFinite,
  assertSameWidth,
  concatRows,
  matmulT,
  Matrix,
  NonFiniteError,
  scale,
  selectRows,
  ShapeError,
  transpose,
} from "./math/matrix.ts";

// similarity, contrastive loss, temperature (issue 5)
export type { Axis, Scored } from "./math/similarity.ts";
export {
  argmaxRows,
  logSoftmaxRow,
  normalize,
  similarity,
  softmax,
  TemperatureError,
  topK,
  TopKError,
} from "./math/similarity.ts";
export type { ClipLossOptions, ClipLossResult, TemperaturePoint } from "./math/loss.ts";
export {
  clipLoss,
  MAX_LOGIT_SCALE,
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
export type { TemplateSet } from "./zeroshot/templates.ts";
export {
  assertTemplates,
  fillTemplate,
  loadPromptFile,
  parseTemplateFile,
  TemplateError,
  templates,
  templateSets,
} from "./zeroshot/templates.ts";
export type { CacheStats, TextEncoderLike } from "./zeroshot/text_cache.ts";
export { CacheError, defaultCacheDir, TextEmbeddingCache } from "./zeroshot/text_cache.ts";

// the synthetic captioned-shapes world (issue 7, data)
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
  ShapesError,
} from "./data/shapes.ts";

// images: decoding and CLIP preprocessing, identical to PIL + torchvision (issue 3)
export type {
  DecodedImage,
  ImageErrorReason,
  ImageFormat,
  ImageMode,
  JpegDecoder,
  LoadImageOptions,
  PreprocessOptions,
  ResampleFilter,
  RGBImage,
} from "./image/mod.ts";
export {
  CLIP_MEAN,
  CLIP_PREPROCESS,
  CLIP_SIZE,
  CLIP_STD,
  decodeImage,
  encodePng,
  fromRGBA,
  ImageError,
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

// text: CLIP's BPE tokenizer, exact (issue 2)
export type { EncodeOptions, TokenBatch, TokenizeOptions } from "./text/tokenizer.ts";
export {
  ClipTokenizer,
  CONTEXT_LENGTH,
  ContextLengthError,
  EOT_TOKEN,
  SOT_TOKEN,
  TokenizerError,
  VocabularyFileError,
} from "./text/tokenizer.ts";
export { byteAlphabet, bytesToUnicode } from "./text/bpe.ts";
export type { Vocabulary, WrittenTokenizerFiles } from "./text/vocabulary.ts";
export { readVocabulary, vocabularyFromMerges, writeHfTokenizerFiles } from "./text/vocabulary.ts";
export { htmlUnescape, pyLower, pyStrip, whitespaceClean } from "./text/clean.ts";
export { fixMojibake, fixText } from "./text/ftfy.ts";

// plots: figures rendered to SVG/PNG, shown inline in Jupyter (issue 6)
export { Figure, PlotInputError, plots, RasterError } from "./plot/mod.ts";
export type {
  ConfusionOptions,
  EmbeddingMapOptions,
  HeatmapOptions,
  MatrixLike,
  Pixels,
  TemperatureOptions,
  TemplateGainsData,
  Thumbnail,
  TrainingCurvesOptions,
  TrainingPoint,
  ZeroShotBarsOptions,
} from "./plot/mod.ts";

// encoders: ONNX runtimes, CLIP model directories, progress bars, hub downloads (issue 4)
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
export type { Backend, BackendChoice, GraphValue, Runtime, RuntimeOptions } from "./model/runtime.ts";
export { graphInputs, graphOutputs, loadRuntime } from "./model/runtime.ts";
export type { ProgressCallback, ProgressOptions, ProgressOutput, ProgressUpdate } from "./model/progress.ts";
export { formatProgress, Progress } from "./model/progress.ts";
export type { FetchedFile, FetchModelOptions, FetchModelResult, RepoFile } from "./model/hub.ts";
export { fetchModel, listRepoFiles, selectModelFiles } from "./model/hub.ts";
export type { ErrorDetails } from "./errors.ts";
export {
  BackendError,
  ClipkitError,
  DownloadError,
  GraphMismatchError,
  InputError,
  MissingModelFileError,
  ModelLoadError,
  NonFiniteOutputError,
} from "./errors.ts";
