/**
 * CLIP's constants, each written once. Every package imports them from here.
 * @module
 */

/** CLIP's per-channel pixel mean (RGB), from openai/CLIP's `_transform`. */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** CLIP's per-channel pixel standard deviation (RGB). */
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
/** The input resolution of openai's ViT-B/32 and ViT-B/16 (the default preprocessing size). */
export const CLIP_SIZE = 224;
/** Tokens per text row in `clip.tokenize`: SOT, up to 75 BPE tokens, EOT. */
export const CONTEXT_LENGTH = 77;
/** The start-of-text token `<|startoftext|>` in CLIP's 49,408-token vocabulary. */
export const SOT_TOKEN = "<|startoftext|>";
/** The end-of-text token `<|endoftext|>`; its id is the largest, so the text tower pools at argmax(ids). */
export const EOT_TOKEN = "<|endoftext|>";
/** The largest logit scale (1 / temperature): openai/CLIP and open_clip clamp the learned scale at 100. */
export const MAX_LOGIT_SCALE = 100;
/** The logit scale CLIP starts training from: 1 / 0.07. */
export const INITIAL_LOGIT_SCALE = 1 / 0.07;
/** Layer-norm epsilon of every CLIP transformer block. */
export const LAYER_NORM_EPS = 1e-5;
