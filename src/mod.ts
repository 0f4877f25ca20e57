/**
 * clipkit: OpenAI's CLIP, one notebook cell at a time.
 *
 * The public API. Every name here is re-exported from the file that defines it.
 * @module
 */

// numbers
export { Matrix, ShapeError } from "./matrix.ts";
