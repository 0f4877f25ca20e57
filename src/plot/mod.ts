/**
 * Figures that teach CLIP, drawn with Observable Plot and rendered to SVG without a browser.
 *
 * Every function returns a {@link Figure}: Deno's Jupyter kernel shows it inline, `toSvg()` gives the
 * markup, `savePng(path, { scale })` rasterises it with resvg. Inputs are the kit's own values
 * (`Matrix`, embeddings, zero-shot predictions, training history) or plain arrays.
 *
 * @example
 * import { plots } from "../mod.ts";
 * const fig = plots.similarityHeatmap(similarity(textEmbeds, imageEmbeds), { texts, images: paths });
 * await fig.savePng("heatmap.png");
 * @module
 */
import { similarityHeatmap } from "./heatmap.ts";
import { temperatureEffects } from "./temperature.ts";
import { templateGains } from "./template_gains.ts";
import { zeroShotBars } from "./zero_shot_bars.ts";
import { confusionMatrix } from "./confusion.ts";
import { trainingCurves } from "./training_curves.ts";
import { embeddingMap } from "./embedding_map.ts";
import { loadThumbnails } from "./thumbnail.ts";

export { Figure } from "./figure.ts";
export { PlotInputError } from "./input.ts";
export type { MatrixLike } from "./input.ts";
export { RasterError } from "./raster.ts";
export type { Pixels, Thumbnail } from "./thumbnail.ts";
export type { HeatmapOptions } from "./heatmap.ts";
export type { TemperatureOptions } from "./temperature.ts";
export { CLIP_INITIAL_TEMPERATURE, CLIP_LEARNED_TEMPERATURE } from "./temperature.ts";
export type { TemplateGainsData } from "./template_gains.ts";
export type { Prediction, ZeroShotBarsOptions } from "./zero_shot_bars.ts";
export type { ConfusionOptions } from "./confusion.ts";
export type { TrainingCurvesOptions, TrainingPoint } from "./training_curves.ts";
export type { EmbeddingMapOptions } from "./embedding_map.ts";
export {
  confusionMatrix,
  embeddingMap,
  loadThumbnails,
  similarityHeatmap,
  temperatureEffects,
  templateGains,
  trainingCurves,
  zeroShotBars,
};

/** All figure functions in one namespace object: `plots.similarityHeatmap(S, { texts, images })`. */
export const plots = {
  similarityHeatmap,
  temperatureEffects,
  templateGains,
  zeroShotBars,
  confusionMatrix,
  trainingCurves,
  embeddingMap,
  loadThumbnails,
} as const;
