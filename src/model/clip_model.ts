/**
 * `ClipModel`: a CLIP model directory (the Hugging Face / transformers.js layout) loaded on
 * onnxruntime-node or onnxruntime-web, embedding texts and images in batches.
 *
 * ```
 * config.json, preprocessor_config.json, tokenizer files, onnx/text_model*.onnx, onnx/vision_model*.onnx
 * ```
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  ClipkitError,
  InputError,
  MissingModelFileError,
  ModelLoadError,
  NonFiniteOutputError,
  VocabularyFileError,
} from "../errors.ts";
import {
  type DecodedImage,
  loadImage,
  preprocessInto,
  type PreprocessOptions,
  preprocessorOptions,
} from "../image/mod.ts";
import { Matrix } from "../math/matrix.ts";
import { type ClipConfig, type Dtype, onnxPath, readClipConfig, readJson } from "./config.ts";
import { Progress, type ProgressCallback } from "./progress.ts";
import { type Backend, type BackendChoice, loadRuntime, type Runtime } from "./runtime.ts";
import { normalize, similarity } from "../math/similarity.ts";
import { ClipTokenizer, tokenLengths } from "../text/tokenizer.ts";
import { Tower } from "./tower.ts";
import { type ConversionOptions, findCheckpoint, loadCheckpoint } from "./checkpoint.ts";

/** Options of `ClipModel.load`. */
export interface ModelLoadOptions {
  /** `"auto"` (default: native when it loads, else WASM), `"node"` or `"web"`. */
  backend?: BackendChoice;
  /** Which ONNX variant: `"fp32"` (default), `"fp16"` or `"q8"` (`*_quantized.onnx`). */
  dtype?: Dtype;
  /** Tokenizer location when it is not in the model directory (e.g. CLIP's `bpe_simple_vocab_16e6.txt.gz`). */
  tokenizer?: string;
  /** Inputs per inference (default 32). */
  batchSize?: number;
  /** Threads per inference (default: all cores). */
  threads?: number;
  /** The logit scale multiplier, overriding config.json (e.g. 100 for OpenAI's checkpoints). */
  logitScale?: number;
  /** Lower peak memory (no repacked weight copies, native backend), ≈ 5% slower. See `RuntimeOptions`. */
  lowMemory?: boolean;
  /**
   * How a PyTorch checkpoint folder (open_clip's or Hugging Face's safetensors) is converted to ONNX the
   * first time it is loaded: cache folder, forced rebuild, progress. See src/model/checkpoint.ts.
   */
  conversion?: ConversionOptions;
}

/** Options of the encoders. */
export interface EncoderOptions {
  /** Called after each batch with `{ done, total }`. */
  onProgress?: ProgressCallback;
  /** Draw a progress bar (default: when there are at least 256 inputs). */
  progress?: boolean;
  /** Inputs per inference for this call (default: the model's `batchSize`). */
  batchSize?: number;
}

/** Options of `encodeText`. */
export interface TextEncoderOptions extends EncoderOptions {
  /** Cut prompts longer than the context length (ending them with EOT) instead of throwing. */
  truncate?: boolean;
}

/** An image as the encoders take it: a path, a URL, file bytes, or a decoded image. */
export type ImageInput = string | URL | Uint8Array | DecodedImage;

/** Token ids as `ClipTokenizer.tokenize` returns them. */
export interface TokenIds {
  /** `[batch, length]` token ids, zero padded. */
  ids: Int32Array;
  /** `[batch, length]`. */
  shape: [number, number];
}

/** CLIP's logits, as `model(image, text)` returns them in openai/CLIP. */
export interface ClipLogits {
  /** `[images, texts]`: `logitScale × cosine`. */
  logitsPerImage: Matrix;
  /** `[texts, images]`: the transpose. */
  logitsPerText: Matrix;
}

/** Inputs per inference when the caller does not say. */
const DEFAULT_BATCH_SIZE = 32;
/** Inputs from which the encoders draw a progress bar by default. */
const PROGRESS_BAR_MIN_INPUTS = 256;
/** Bytes read at a time when hashing the ONNX files for `model.id`. */
const HASH_CHUNK = 1 << 22;

/**
 * Embeddings: a `Matrix` with one row per input, the raw projection output as CLIP's
 * `encode_text` / `encode_image` return it (not normalised). It holds nothing besides the matrix.
 * @example
 * ```ts
 * import { ClipModel } from "./clip_model.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const e = await model.encodeText(["a red circle"]);
 * e.shape; // → [1, 64]
 * Math.hypot(...e.normalize().row(0)).toFixed(4); // → "1.0000"
 * ```
 */
export class Embeddings extends Matrix {
  /**
   * The same rows scaled to unit length (a zero row stays zero).
   * @example
   * ```ts
   * import { Embeddings } from "./clip_model.ts";
   * new Embeddings(new Float32Array([3, 4]), 1, 2).normalize().toRows(); // → [[0.6000000238418579, 0.800000011920929]]
   * ```
   */
  normalize(): Embeddings {
    const unit = normalize(this);
    return new Embeddings(unit.data, unit.rows, unit.cols);
  }
}

/**
 * A CLIP model: tokenizer, preprocessing and both encoder towers. See `ClipModel.load`.
 * @example
 * ```ts
 * import { ClipModel } from "./clip_model.ts";
 * import { similarity } from "../math/similarity.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = await model.encodeImages(["models/samples/01_red_circle.png"]); // [1, 64]
 * const texts = await model.encodeText(["a red circle", "a blue square"]); // [2, 64]
 * similarity(images, texts).toRows(); // → [[0.7400817275047302, 0.2915213406085968]]
 * ```
 */
export class ClipModel {
  /** The model directory. */
  readonly dir: string;
  /** The backend in use (what `"auto"` picked). */
  readonly backend: Backend;
  /** The ONNX variant loaded. */
  readonly dtype: Dtype;
  /** What clipkit read from config.json. */
  readonly config: ClipConfig;
  /** The multiplier of cosine similarities in `logits` (`exp` of CLIP's learned `logit_scale`). */
  readonly logitScale: number;
  /** The model's tokenizer. */
  readonly tokenizer: ClipTokenizer;
  /** Image preprocessing from preprocessor_config.json. */
  readonly preprocessOptions: PreprocessOptions;
  /** The runtime (backend and thread count: `model.runtime.describe()`). */
  readonly runtime: Runtime;
  /** Default inputs per inference. */
  readonly batchSize: number;
  /** Embedding width of both towers. */
  readonly dim: number;
  /** Token positions the text tower takes (77 for CLIP). */
  readonly contextLength: number;
  /** Side of the square image the vision tower takes. */
  readonly imageSize: number;
  readonly #text: Tower;
  readonly #vision: Tower;
  #id?: string;
  #pixelBuffers: Float32Array[] = [];
  #pixelBuffersBusy = false;
  #disposed = false;

  private constructor(fields: {
    dir: string;
    runtime: Runtime;
    dtype: Dtype;
    config: ClipConfig;
    tokenizer: ClipTokenizer;
    preprocessOptions: PreprocessOptions;
    batchSize: number;
    dim: number;
    contextLength: number;
    imageSize: number;
    text: Tower;
    vision: Tower;
  }) {
    this.dir = fields.dir;
    this.runtime = fields.runtime;
    this.backend = fields.runtime.backend;
    this.dtype = fields.dtype;
    this.config = fields.config;
    this.logitScale = fields.config.logitScale;
    this.tokenizer = fields.tokenizer;
    this.preprocessOptions = fields.preprocessOptions;
    this.batchSize = fields.batchSize;
    this.dim = fields.dim;
    this.contextLength = fields.contextLength;
    this.imageSize = fields.imageSize;
    this.#text = fields.text;
    this.#vision = fields.vision;
  }

  /**
   * Load a model directory: configs, tokenizer, and both ONNX towers (one session each, reused). A PyTorch
   * checkpoint folder (open_clip's `open_clip_config.json` + `open_clip_model.safetensors`, or Hugging Face's
   * `config.json` + `model.safetensors`) is converted to ONNX once, into a cache folder keyed by its content.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * [model.backend, model.dim, model.contextLength, model.imageSize]; // → ["node", 64, 32, 40]
   * ```
   */
  static async load(dir: string, options: ModelLoadOptions = {}): Promise<ClipModel> {
    const dtype = options.dtype ?? "fp32";
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new InputError(`batchSize must be a positive integer, got ${batchSize}`, { fix: "pass e.g. 32" });
    }
    if (!existsSync(dir)) {
      throw new MissingModelFileError("no such model directory", {
        path: dir,
        fix: "download one with `deno task fetch-model Xenova/clip-vit-base-patch32`, or fix the path",
      });
    }
    if (!Deno.statSync(dir).isDirectory) {
      throw new ModelLoadError("ClipModel.load takes a model directory, but this is a file", {
        path: dir,
        fix: `pass the folder that holds config.json and onnx/ (here perhaps ${
          JSON.stringify(dirname(dir))
        })`,
      });
    }
    const checkpoint = findCheckpoint(dir);
    if (checkpoint) {
      // open_clip or Hugging Face safetensors: converted once into a cache folder, which is loaded instead.
      return await loadCheckpoint(
        checkpoint,
        { dtype, tokenizer: options.tokenizer, ...options.conversion },
        (converted) => ClipModel.load(converted, { ...options, conversion: undefined }),
      );
    }
    const config = await readClipConfig(dir, { logitScale: options.logitScale });
    const preprocessPath = join(dir, "preprocessor_config.json");
    const preprocessJson = await readJson(preprocessPath, "preprocessor_config.json");
    let preprocessOptions: PreprocessOptions;
    try {
      preprocessOptions = preprocessorOptions(preprocessJson);
    } catch (error) {
      if (!(error instanceof ClipkitError)) throw error;
      throw new ModelLoadError(`preprocessor_config.json cannot be used: ${error.message}`, {
        path: preprocessPath,
        fix:
          "write CLIP's values (image_mean [0.4815, 0.4578, 0.4082], image_std [0.2686, 0.2613, 0.2758], " +
          'size {"shortest_edge": 224}, crop_size 224, resample 3), or re-download the model',
        cause: error,
      });
    }
    const textPath = onnxPath(dir, "text", dtype);
    const visionPath = onnxPath(dir, "vision", dtype);
    const tokenizerAt = tokenizerPath(dir, options.tokenizer);
    const runtime = await loadRuntime(options.backend ?? "auto", {
      threads: options.threads,
      lowMemory: options.lowMemory,
    });
    const [text, vision] = await Promise.allSettled([
      Tower.load(runtime, "text", textPath),
      Tower.load(runtime, "vision", visionPath),
    ]);
    if (text.status === "rejected" || vision.status === "rejected") {
      if (text.status === "fulfilled") await text.value.release();
      if (vision.status === "fulfilled") await vision.value.release();
      throw text.status === "rejected" ? text.reason : (vision as PromiseRejectedResult).reason;
    }
    try {
      const tokenizer = await loadTokenizer(tokenizerAt);
      return new ClipModel({
        dir,
        runtime,
        dtype,
        config,
        tokenizer,
        preprocessOptions,
        batchSize,
        dim: towerWidth(text.value, vision.value, config),
        contextLength: text.value.fixedLength ?? config.contextLength,
        imageSize: imageSide(vision.value, config, preprocessOptions),
        text: text.value,
        vision: vision.value,
      });
    } catch (error) {
      await text.value.release();
      await vision.value.release();
      throw error;
    }
  }

  /**
   * A stable id of everything that changes the embeddings, for disk caches of embeddings: sha256 of both ONNX
   * files, the tokenizer's vocabulary and merges, the context length, the image preprocessing, the dtype and,
   * for fp16 and q8, the backend (their native and WASM kernels round differently). Computed on first use (reads the
   * files once), then kept.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * model.id; // → "tiny-clip-fp32-f1d99ed7d01dcf79" (directory name, dtype, 16 hex digits of sha256)
   * ```
   */
  get id(): string {
    if (!this.#id) {
      const hash = createHash("sha256");
      const chunk = new Uint8Array(HASH_CHUNK);
      hash.update(JSON.stringify({
        tokenizer: this.tokenizer.fingerprint,
        contextLength: this.contextLength,
        preprocess: this.preprocessOptions,
        dtype: this.dtype,
        // fp32 kernels of both backends agree to float32 rounding; fp16 and int8 kernels differ more.
        backend: this.dtype === "fp32" ? "any" : this.backend,
      }));
      for (const path of [this.#text.path, this.#vision.path]) {
        using file = Deno.openSync(path);
        for (let n = file.readSync(chunk); n !== null; n = file.readSync(chunk)) {
          hash.update(chunk.subarray(0, n));
        }
      }
      const name = this.dir.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || "model";
      this.#id = `${name}-${this.dtype}-${hash.digest("hex").slice(0, 16)}`;
    }
    return this.#id;
  }

  /**
   * Embed texts: tokenize like `clip.tokenize`, then run the text tower in batches.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * const e = await model.encodeText(["a red circle", "a blue square"]);
   * e.shape; // → [2, 64]
   * ```
   */
  async encodeText(texts: readonly string[], options: TextEncoderOptions = {}): Promise<Embeddings> {
    this.#assertLive("encodeText");
    checkInputs(texts, "encodeText", "texts");
    texts.forEach((t, i) => {
      if (typeof t !== "string") {
        throw new InputError(`text #${i} is a ${typeof t}, not a string`, {
          fix: "pass an array of strings",
        });
      }
    });
    const tokens = this.tokenizer.tokenize([...texts], {
      contextLength: this.contextLength,
      truncate: options.truncate ?? false,
    });
    return await this.encodeTokens(tokens, options);
  }

  /**
   * Embed token ids (`[batch, length]`, as `ClipTokenizer.tokenize` returns them) with the text tower.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * const e = await model.encodeTokens(model.tokenizer.tokenize(["a red circle"], { contextLength: 24 }));
   * e.shape; // → [1, 64]
   * ```
   */
  async encodeTokens(tokens: TokenIds, options: EncoderOptions = {}): Promise<Embeddings> {
    this.#assertLive("encodeTokens");
    const [count, length] = tokens.shape;
    if (count < 1) throw emptyInput("encodeTokens", "token rows");
    if (tokens.ids.length !== count * length) {
      throw new InputError(
        `token ids hold ${tokens.ids.length} values, but shape [${tokens.shape}] needs ${count * length}`,
        {
          fix: "pass the { ids, shape } that ClipTokenizer.tokenize returns",
        },
      );
    }
    if (length !== this.contextLength && this.#text.fixedLength !== undefined) {
      throw new InputError(
        `token rows have length ${length}, but the text tower takes ${this.contextLength}`,
        {
          path: this.#text.path,
          fix: `tokenize with { contextLength: ${this.contextLength} }`,
        },
      );
    }
    this.#checkTokenIds(tokens.ids);
    const batch = this.#batchSize(options, this.#text);
    const out = new Float32Array(count * this.dim); // [count, dim]
    const progress = this.#progress(count, "text", options);
    if (this.#text.fixedLength === undefined) await this.#encodeByLength(tokens, batch, out, progress);
    else {
      for (let start = 0; start < count; start += batch) {
        const rows = Math.min(batch, count - start);
        const ids = tokens.ids.subarray(start * length, (start + rows) * length); // [rows, length]
        await this.#text.run(ids, rows, length, out.subarray(start * this.dim, (start + rows) * this.dim));
        progress.tick(rows);
      }
    }
    checkFinite(out, this.dim, this.#text);
    progress.finish();
    return new Embeddings(out, count, this.dim);
  }

  /**
   * The text tower on a dynamic sequence axis: rows sorted by length (up to and including EOT), each
   * batch cut to its longest row. The tower is causal and pools at EOT, so the embeddings are those of
   * rows padded to the full context, for a fraction of the work (CLIP's prompts are ~10 of 77 tokens).
   */
  async #encodeByLength(
    tokens: TokenIds,
    batch: number,
    out: Float32Array,
    progress: Progress,
  ): Promise<void> {
    const [count, length] = tokens.shape;
    const dim = this.dim;
    const lengths = tokenLengths(tokens.ids, tokens.shape); // [count]
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
    const ids = new Int32Array(Math.min(batch, count) * length); // [rows, cut], reused
    const embeds = new Float32Array(Math.min(batch, count) * dim); // [rows, dim], reused
    for (let start = 0; start < count; start += batch) {
      const rows = Math.min(batch, count - start);
      const members = order.slice(start, start + rows);
      const cut = lengths[members[rows - 1]]; // the batch's longest row
      members.forEach((row, r) => ids.set(tokens.ids.subarray(row * length, row * length + cut), r * cut));
      await this.#text.run(ids.subarray(0, rows * cut), rows, cut, embeds.subarray(0, rows * dim));
      members.forEach((row, r) => out.set(embeds.subarray(r * dim, (r + 1) * dim), row * dim));
      progress.tick(rows);
    }
  }

  /**
   * Embed images: decode, preprocess (CLIP's resize, crop, normalise) and run the vision tower in
   * batches; the next batch is prepared while the current one runs.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * const e = await model.encodeImages([
   *   "models/samples/01_red_circle.png",
   *   await Deno.readFile("models/samples/06_blue_square.png"),
   * ]);
   * e.shape; // → [2, 64]
   * ```
   */
  async encodeImages(images: readonly ImageInput[], options: EncoderOptions = {}): Promise<Embeddings> {
    this.#assertLive("encodeImages");
    checkInputs(images, "encodeImages", "images");
    images.forEach((item, i) => {
      if (!isImageInput(item)) {
        throw new InputError(
          `image #${i} is ${item === null ? "null" : typeof item}, not a path, URL, bytes or decoded image`,
          {
            fix:
              "pass file paths, URLs, Uint8Array file bytes, or images from loadImage (drop empty entries)",
          },
        );
      }
    });
    const count = images.length;
    const size = this.imageSize;
    const chw = 3 * size * size;
    const batch = this.#batchSize(options, this.#vision);
    const shared = !this.#pixelBuffersBusy; // a concurrent call gets its own buffers
    this.#pixelBuffersBusy ||= shared;
    const buffers = shared
      ? this.#pixelBuffersFor(batch * chw) // two [batch, 3, R, R], used in turn
      : [new Float32Array(batch * chw), new Float32Array(batch * chw)];
    const prepare = async (start: number, buffer: Float32Array): Promise<void> => {
      const items = images.slice(start, start + batch);
      const decoded = await Promise.all(items.map((item, i) => decode(item, start + i)));
      decoded.forEach((image, i) => preprocessInto(image, buffer, i * chw, this.preprocessOptions));
    };
    const out = new Float32Array(count * this.dim); // [count, dim]
    const progress = this.#progress(count, "images", options);
    let pending = prepare(0, buffers[0]);
    try {
      for (let b = 0, start = 0; start < count; b++, start += batch) {
        await pending;
        const rows = Math.min(batch, count - start);
        const next = start + batch;
        pending = next < count ? prepare(next, buffers[(b + 1) % 2]) : Promise.resolve();
        pending.catch(() => {}); // reported by the `await pending` above, unless the run fails first
        const pixels = buffers[b % 2].subarray(0, rows * chw); // [rows, 3, R, R]
        await this.#vision.run(pixels, rows, size, out.subarray(start * this.dim, (start + rows) * this.dim));
        progress.tick(rows);
      }
    } finally {
      await pending.catch(() => {}); // let the prefetch finish before the buffers are reused
      if (shared) this.#pixelBuffersBusy = false;
    }
    checkFinite(out, this.dim, this.#vision);
    progress.finish();
    return new Embeddings(out, count, this.dim);
  }

  /**
   * Embed preprocessed pixel values (`[count, 3, R, R]` float32, e.g. from `preprocess`).
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * const e = await model.encodePixels(new Float32Array(2 * 3 * 40 * 40)); // [2, 3, 40, 40]
   * e.shape; // → [2, 64]
   * ```
   */
  async encodePixels(pixels: Float32Array, options: EncoderOptions = {}): Promise<Embeddings> {
    this.#assertLive("encodePixels");
    const chw = 3 * this.imageSize * this.imageSize;
    if (pixels.length === 0) throw emptyInput("encodePixels", "pixel values");
    if (pixels.length % chw !== 0) {
      throw new InputError(
        `${pixels.length} pixel values is not a whole number of 3×${this.imageSize}×${this.imageSize} images`,
        {
          fix: `preprocess images to size ${this.imageSize} (model.preprocessOptions)`,
        },
      );
    }
    const count = pixels.length / chw;
    const batch = this.#batchSize(options, this.#vision);
    const out = new Float32Array(count * this.dim); // [count, dim]
    const progress = this.#progress(count, "images", options);
    for (let start = 0; start < count; start += batch) {
      const rows = Math.min(batch, count - start);
      const view = pixels.subarray(start * chw, (start + rows) * chw); // [rows, 3, R, R]
      await this.#vision.run(
        view,
        rows,
        this.imageSize,
        out.subarray(start * this.dim, (start + rows) * this.dim),
      );
      progress.tick(rows);
    }
    checkFinite(out, this.dim, this.#vision);
    progress.finish();
    return new Embeddings(out, count, this.dim);
  }

  /**
   * Cosine similarity of each image with each text, `[images, texts]`. Either side may be given as
   * inputs or as embeddings already computed.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * (await model.similarity(["models/samples/01_red_circle.png"], ["a red circle", "a blue square"])).toRows();
   * // → [[0.7400817275047302, 0.2915213406085968]]
   * ```
   */
  async similarity(
    images: readonly ImageInput[] | Matrix,
    texts: readonly string[] | Matrix,
  ): Promise<Matrix> {
    const imageEmbeds = images instanceof Matrix ? images : await this.encodeImages(images);
    const textEmbeds = texts instanceof Matrix ? texts : await this.encodeText(texts);
    return similarity(imageEmbeds, textEmbeds);
  }

  /**
   * CLIP's forward: `logitsPerImage = logitScale · normalize(images) · normalize(texts)ᵀ` and its transpose.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * const { logitsPerImage } = await model.logits(["models/samples/01_red_circle.png"], ["a red circle", "a blue square"]);
   * logitsPerImage.toRows(); // → [[30.36662483215332, 11.961542129516602]] (logitScale 41.03)
   * ```
   */
  async logits(
    images: readonly ImageInput[] | Matrix,
    texts: readonly string[] | Matrix,
  ): Promise<ClipLogits> {
    const cosine = await this.similarity(images, texts); // [images, texts]
    const perImage = cosine.data.map((c) => c * this.logitScale);
    const perText = new Float32Array(perImage.length); // [texts, images]
    for (let i = 0; i < cosine.rows; i++) {
      for (let t = 0; t < cosine.cols; t++) perText[t * cosine.rows + i] = perImage[i * cosine.cols + t];
    }
    return {
      logitsPerImage: new Matrix(perImage, cosine.rows, cosine.cols),
      logitsPerText: new Matrix(perText, cosine.cols, cosine.rows),
    };
  }

  /**
   * Release both ONNX sessions. The model cannot encode afterwards.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * const model = await ClipModel.load("models/tiny-clip");
   * (await model.encodeText(["a red circle"])).shape; // → [1, 64]
   * await model.dispose(); // the ONNX sessions' memory is freed now
   * ```
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all([this.#text.release(), this.#vision.release()]);
    this.#pixelBuffers = [];
  }

  /** Whether `dispose()` was called (the model cannot encode any more). */
  get disposed(): boolean {
    return this.#disposed;
  }

  #assertLive(method: string): void {
    if (this.#disposed) {
      throw new InputError(`${method} was called after model.dispose(), which freed the ONNX sessions`, {
        path: this.dir,
        fix: "load the model again with ClipModel.load(dir), or call dispose() only when done with it",
      });
    }
  }

  /**
   * Token ids the text tower has no embedding for (a tokenizer larger than config.json's
   * `text_config.vocab_size`, e.g. CLIP's 49,408-id vocabulary on a smaller model) would fail deep inside the
   * graph, or read past its table: they are a VocabularyFileError naming both sizes.
   */
  #checkTokenIds(ids: Int32Array): void {
    const size = textVocabSize(this.config);
    if (size === undefined) return;
    let max = 0;
    for (let k = 0; k < ids.length; k++) if (ids[k] > max) max = ids[k];
    if (max < size) return;
    const own = this.tokenizer.vocabSize > size;
    throw new VocabularyFileError(
      `token id ${max} is past the text tower's ${size} ids (config.json text_config.vocab_size)` +
        (own
          ? `: the tokenizer has ${this.tokenizer.vocabSize} ids, so it does not belong to this model`
          : ""),
      {
        path: this.dir,
        fix: own
          ? "load the model with its own tokenizer files (or the tokenizer it was trained with): " +
            "drop { tokenizer } / --tokenizer, or point it at the right files"
          : `pass ids below ${size}`,
      },
    );
  }

  /**
   * Whether the tokenizer has more ids than the text tower (`text_config.vocab_size`): such a tokenizer does not
   * belong to the model, and encoding a text that uses one of the extra ids is a `VocabularyFileError`.
   * @example
   * ```ts
   * import { ClipModel } from "./clip_model.ts";
   * (await ClipModel.load("models/tiny-clip")).tokenizerMismatch; // → false
   * ```
   */
  get tokenizerMismatch(): boolean {
    const size = textVocabSize(this.config);
    return size !== undefined && this.tokenizer.vocabSize > size;
  }

  #batchSize(options: EncoderOptions, tower: Tower): number {
    const batch = options.batchSize ?? this.batchSize;
    if (!Number.isInteger(batch) || batch < 1) {
      throw new InputError(`batchSize must be a positive integer, got ${batch}`, { fix: "pass e.g. 32" });
    }
    return tower.fixedBatch ? Math.min(batch, tower.fixedBatch) : batch;
  }

  #progress(total: number, unit: string, options: EncoderOptions): Progress {
    const bar = options.progress ?? total >= PROGRESS_BAR_MIN_INPUTS;
    return new Progress(total, {
      label: `embedding ${unit}`,
      unit,
      output: bar ? "auto" : "none",
      onProgress: options.onProgress,
    });
  }

  /** Two reusable pixel buffers of `n` values each (grown when a call needs more). */
  #pixelBuffersFor(n: number): [Float32Array, Float32Array] {
    if (this.#pixelBuffers.length !== 2 || this.#pixelBuffers[0].length < n) {
      this.#pixelBuffers = [new Float32Array(n), new Float32Array(n)];
    }
    return [this.#pixelBuffers[0], this.#pixelBuffers[1]];
  }
}

/** Rows shown by name in a non-finite-output error before the rest are counted. */
const NAMED_BAD_ROWS = 5;

/**
 * Throw {@link NonFiniteOutputError} when `out` (`[rows, dim]`, in the caller's order) holds NaN or ±∞,
 * naming the first bad input and how many others are bad.
 */
function checkFinite(out: Float32Array, dim: number, tower: Tower): void {
  const bad: number[] = [];
  let first = NaN;
  for (let i = 0; i < out.length; i++) {
    if (Number.isFinite(out[i])) continue;
    const row = Math.floor(i / dim);
    if (bad.length === 0) first = out[i];
    bad.push(row);
    i = (row + 1) * dim - 1; // on to the next row
  }
  if (bad.length === 0) return;
  const what = tower.kind === "text" ? "text" : "image";
  const others = bad.length === 1
    ? ""
    : ` (and in ${bad.length - 1} more: #${bad.slice(1, NAMED_BAD_ROWS + 1).join(", #")}${
      bad.length > NAMED_BAD_ROWS + 1 ? ", …" : ""
    })`;
  throw new NonFiniteOutputError(
    `the ${tower.kind} tower returned ${first} in the embedding of ${what} #${bad[0]}${others}`,
    {
      path: tower.path,
      fix: tower.kind === "vision"
        ? "check that image's pixel values are finite; with dtype fp16, use fp32 (fp16 can overflow)"
        : "with dtype fp16 use fp32 (fp16 can overflow); otherwise the weights are damaged: re-download them",
    },
  );
}

/** Tokenizers already read, by absolute path (reading CLIP's 49k merges takes most of a second). */
const tokenizers = new Map<string, Promise<ClipTokenizer>>();

function loadTokenizer(path: string): Promise<ClipTokenizer> {
  const key = resolve(path);
  let tokenizer = tokenizers.get(key);
  if (!tokenizer) {
    tokenizer = ClipTokenizer.load(path);
    tokenizers.set(key, tokenizer);
    tokenizer.catch(() => tokenizers.delete(key));
  }
  return tokenizer;
}

/** Where the tokenizer is: the `tokenizer` option, else the model directory. */
function tokenizerPath(dir: string, option: string | undefined): string {
  if (option !== undefined) {
    if (!existsSync(option)) {
      throw new MissingModelFileError("the tokenizer given in options.tokenizer does not exist", {
        path: option,
        fix:
          "pass a directory with vocab.json + merges.txt (or tokenizer.json), or bpe_simple_vocab_16e6.txt.gz",
      });
    }
    return option;
  }
  const files = ["tokenizer.json", "vocab.json", "merges.txt", "bpe_simple_vocab_16e6.txt.gz"];
  if (files.some((f) => existsSync(join(dir, f)))) return dir;
  throw new MissingModelFileError(
    "the model directory has no tokenizer (tokenizer.json or vocab.json + merges.txt)",
    {
      path: dir,
      fix:
        'pass { tokenizer: "path/to/bpe_simple_vocab_16e6.txt.gz" } (or a tokenizer directory) to ClipModel.load; ' +
        "on the command line (demo, figures, zeroshot, embed, search): --tokenizer PATH",
    },
  );
}

/** The shared embedding width, checked across the two towers and config.json. */
function towerWidth(text: Tower, vision: Tower, config: ClipConfig): number {
  const t = text.dim ?? config.projectionDim;
  const v = vision.dim ?? config.projectionDim;
  if (t !== undefined && v !== undefined && t !== v) {
    throw new ModelLoadError(`the text tower projects to ${t} dimensions but the vision tower to ${v}`, {
      path: `${text.path}, ${vision.path}`,
      fix: "CLIP compares text and image embeddings, so use two towers exported from the same checkpoint",
    });
  }
  const dim = t ?? v;
  if (dim === undefined) {
    throw new ModelLoadError("the embedding width is unknown: the graphs' output axes are symbolic", {
      path: join(text.path, "..", "..", "config.json"),
      fix: 'add "projection_dim" to config.json',
    });
  }
  return dim;
}

/** The vision tower's image side, checked against the preprocessing config. */
function imageSide(vision: Tower, config: ClipConfig, preprocess: PreprocessOptions): number {
  const crop = preprocess.cropSize ?? preprocess.size;
  const side = vision.fixedLength ?? config.imageSize ?? crop;
  if (side !== crop) {
    throw new ModelLoadError(
      `the vision tower takes ${side}×${side} images but preprocessor_config.json crops to ${crop}×${crop}`,
      { path: vision.path, fix: "use the preprocessor_config.json exported with this vision tower" },
    );
  }
  return side;
}

function checkInputs(items: readonly unknown[], method: string, what: string): void {
  if (!Array.isArray(items)) {
    throw new InputError(`${method} takes an array of ${what}, got ${typeof items}`, {
      fix: `wrap a single item in an array: ${method}([item])`,
    });
  }
  if (items.length === 0) throw emptyInput(method, what);
}

function emptyInput(method: string, what: string): InputError {
  return new InputError(`${method} got no ${what}`, {
    fix: `pass at least one; an empty list has no embeddings (check the filter or glob that built it)`,
  });
}

function isDecoded(item: ImageInput): item is DecodedImage {
  return typeof item === "object" && item !== null && !(item instanceof Uint8Array) &&
    !(item instanceof URL) &&
    "data" in item && "width" in item;
}

function isImageInput(item: unknown): item is ImageInput {
  return typeof item === "string" || item instanceof URL || item instanceof Uint8Array ||
    isDecoded(item as ImageInput);
}

/** `text_config.vocab_size` of config.json: the rows of the text tower's token embedding, when stated. */
function textVocabSize(config: ClipConfig): number | undefined {
  const text = config.raw.text_config as Record<string, unknown> | undefined;
  const size = text?.vocab_size;
  return typeof size === "number" && Number.isInteger(size) && size > 0 ? size : undefined;
}

async function decode(item: ImageInput, index: number): Promise<DecodedImage> {
  if (isDecoded(item)) return item;
  if (typeof item !== "string" && !(item instanceof URL) && !(item instanceof Uint8Array)) {
    throw new InputError(`image #${index} is neither a path, a URL, bytes nor a decoded image`, {
      fix: "pass file paths, URLs, Uint8Array file bytes, or images from loadImage",
    });
  }
  return await loadImage(item);
}
