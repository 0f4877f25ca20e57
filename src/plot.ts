/**
 * Figures that teach CLIP, drawn with Observable Plot and rendered to SVG without a browser.
 *
 * Every function returns a {@link Figure}: Deno's Jupyter kernel shows it inline, `toSvg()` gives the
 * markup, `savePng(path, { scale })` rasterises it with resvg. Inputs are the kit's own values
 * (`Matrix`, embeddings, zero-shot predictions, training history) or plain arrays.
 *
 * @example
 * import { plots } from "./mod.ts";
 * const fig = plots.similarityHeatmap(similarity(textEmbeds, imageEmbeds), { texts, images: paths });
 * await fig.savePng("heatmap.png");
 * @module
 */
import { similarityHeatmap } from "./plot/heatmap.ts";
import { temperatureEffects } from "./plot/temperature.ts";
import { templateGains } from "./plot/template_gains.ts";
import { zeroShotBars } from "./plot/zero_shot_bars.ts";
import { confusionMatrix } from "./plot/confusion.ts";
import { trainingCurves } from "./plot/training_curves.ts";
import { embeddingMap } from "./plot/embedding_map.ts";
import { loadThumbnails } from "./plot/thumbnail.ts";

export { Figure } from "./plot/figure.ts";
export { PlotInputError } from "./plot/input.ts";
export type { MatrixLike } from "./plot/input.ts";
export { RasterError } from "./plot/raster.ts";
export type { Pixels, Thumbnail } from "./plot/thumbnail.ts";
export type { HeatmapOptions } from "./plot/heatmap.ts";
export type { TemperatureOptions } from "./plot/temperature.ts";
export { CLIP_INITIAL_TEMPERATURE, CLIP_LEARNED_TEMPERATURE } from "./plot/temperature.ts";
export type { TemplateGainsData } from "./plot/template_gains.ts";
export type { Prediction, ZeroShotBarsOptions } from "./plot/zero_shot_bars.ts";
export type { ConfusionOptions } from "./plot/confusion.ts";
export type { TrainingCurvesOptions, TrainingPoint } from "./plot/training_curves.ts";
export type { EmbeddingMapOptions } from "./plot/embedding_map.ts";
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
