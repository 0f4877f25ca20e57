/**
 * Data: the synthetic shapes world (classic pictures, five media, alt-text captions, the zero-shot suite) and
 * the user's own data (image folders, caption files) with the embedding formats out (npy, parquet, shards).
 * @module
 */
export * from "./alt_text.ts";
export * from "./caption_file.ts";
export * from "./captions.ts";
export * from "./classes.ts";
export * from "./dataset.ts";
export * from "./draw.ts";
export * from "./embedding_shards.ts";
export * from "./image_folder.ts";
export * from "./media.ts";
export * from "./npy.ts";
export * from "./parquet.ts";
export * from "./random.ts";
export * from "./render.ts";
export * from "./samples.ts";
export * from "./shapes.ts";
export * from "./shapes_folder.ts";
export * from "./suite.ts";
export * from "./world.ts";
