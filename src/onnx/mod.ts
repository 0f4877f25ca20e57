/**
 * ONNX: the graph builder, the CLIP exporter (weights + architecture → a model folder) and the fp16/int8 variants.
 * @module
 */
export * from "./export.ts";
export * from "./graph.ts";
export * from "./variants.ts";
