/**
 * Models: a CLIP model folder (or an open_clip / Hugging Face checkpoint, converted once) → towers on
 * onnxruntime-node or -web → Embeddings; architectures, config, hub downloads, progress bars.
 * @module
 */
export * from "./architecture.ts";
export * from "./checkpoint.ts";
export * from "./checkpoint_names.ts";
export * from "./clip_model.ts";
export * from "./config.ts";
export * from "./embed_dataset.ts";
export * from "./embedding_export.ts";
export * from "./hub.ts";
export * from "./progress.ts";
export * from "./runtime.ts";
export * from "./safetensors.ts";
export * from "./tower.ts";
