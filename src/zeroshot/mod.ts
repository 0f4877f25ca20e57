/**
 * Zero-shot: prompts (templates × class names) → text embeddings (cached) → class weights → scores;
 * template sets as JSON, prompt analysis (per template, ensemble, greedy selection), reports on image folders.
 * @module
 */
export * from "./classifier.ts";
export * from "./image_cache.ts";
export * from "./prompt_analysis.ts";
export * from "./report.ts";
export * from "./templates.ts";
export * from "./text_cache.ts";
