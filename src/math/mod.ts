/**
 * Numbers: row-major matrices, cosine similarity, softmax/top-k, CLIP's and SigLIP's losses, temperature sweeps,
 * retrieval metrics, exact search, and the L-BFGS linear probe.
 * @module
 */
export * from "./gemm64.ts";
export * from "./lbfgs.ts";
export * from "./linear_probe.ts";
export * from "./loss.ts";
export * from "./matrix.ts";
export * from "./probe_threads.ts";
export * from "./retrieval.ts";
export * from "./search.ts";
export * from "./similarity.ts";
export * from "./softmax_loss.ts";
