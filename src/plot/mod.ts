/**
 * Figures that teach CLIP, drawn with Observable Plot and rendered to SVG without a browser.
 *
 * Every function returns a {@link Figure}: Deno's Jupyter kernel shows it inline, `toSvg()` gives the
 * markup, `savePng(path, { scale })` rasterises it with resvg. Inputs are the kit's own values
 * (`Matrix`, embeddings, zero-shot predictions, training history) or plain arrays.
 *
 * Three are interactive (`temperatureSlider`, `templatePicker`, `trainingReplay`): they return an
 * {@link InteractiveFigure}, self-contained HTML with a small script that Jupyter and VS Code run (the kernel
 * computes, the page lets you explore), with the static SVG as the fallback a code host shows.
 *
 * @example
 * ```ts
 * import { ClipModel, plots, similarity } from "../mod.ts";
 * const model = await ClipModel.load("models/tiny-clip");
 * const images = ["models/samples/01_red_circle.png", "models/samples/06_blue_square.png"];
 * const texts = ["a red circle", "a blue square"];
 * const S = similarity(await model.encodeText(texts), await model.encodeImages(images)); // [texts, images]
 * const fig = plots.similarityHeatmap(S, { texts, images });
 * await fig.savePng(`${await Deno.makeTempDir()}/heatmap.png`);
 * ```
 * @module
 */
import { similarityHeatmap } from "./heatmap.ts";
import { temperatureEffects } from "./temperature.ts";
import { templateGains } from "./template_gains.ts";
import { zeroShotBars } from "./zero_shot_bars.ts";
import { suiteBars } from "./suite_bars.ts";
import { confusionMatrix } from "./confusion.ts";
import { trainingCurves } from "./training_curves.ts";
import { embeddingMap } from "./embedding_map.ts";
import { loadThumbnails } from "./thumbnail.ts";
import { imageGrid } from "./image_grid.ts";
import { temperatureSlider } from "./temperature_slider.ts";
import { templatePicker } from "./template_picker.ts";
import { trainingReplay } from "./training_replay.ts";

export { Figure } from "./figure.ts";
export { PlotInputError, RasterError } from "../errors.ts";
export type { MatrixLike } from "./input.ts";
export type { Pixels, Thumbnail } from "./thumbnail.ts";
export type { HeatmapOptions } from "./heatmap.ts";
export type { TemperatureOptions } from "./temperature.ts";
export { CLIP_INITIAL_TEMPERATURE, CLIP_LEARNED_TEMPERATURE } from "./temperature.ts";
export type { TemplateGainsData } from "./template_gains.ts";
export type { BarPrediction, ZeroShotBarsOptions } from "./zero_shot_bars.ts";
export type { SuiteBarsData, SuiteBarsRow } from "./suite_bars.ts";
export type { ConfusionOptions } from "./confusion.ts";
export type { TrainingCurvesOptions, TrainingLog, TrainingPoint } from "./training_curves.ts";
export { trainingPoints } from "./training_curves.ts";
export type { EmbeddingMapOptions } from "./embedding_map.ts";
export type { ImageGridOptions } from "./image_grid.ts";
export { InteractiveFigure } from "./interactive.ts";
export type { FigureBytes } from "./interactive.ts";
export type { TemperatureSliderOptions } from "./temperature_slider.ts";
export type { TemplatePickerOptions, TemplatePickerState } from "./template_picker.ts";
export { pickerSample, pickerState } from "./template_picker.ts";
export type { ReplayCheckpoint, TrainingReplayOptions } from "./training_replay.ts";
export { diagonalWins } from "./training_replay.ts";
export {
  confusionMatrix,
  embeddingMap,
  imageGrid,
  loadThumbnails,
  similarityHeatmap,
  suiteBars,
  temperatureEffects,
  temperatureSlider,
  templateGains,
  templatePicker,
  trainingCurves,
  trainingReplay,
  zeroShotBars,
};

/**
 * All figure functions in one namespace object: `plots.similarityHeatmap(S, { texts, images })`.
 * @example
 * ```ts
 * import { plots } from "./mod.ts";
 * Object.keys(plots).slice(0, 3); // → ["similarityHeatmap", "temperatureEffects", "templateGains"]
 * String(plots.confusionMatrix([[8, 2], [1, 9]], { labels: ["circle", "square"] }));
 * // → 'Figure "Confusion matrix (accuracy 85.0%)" (654×362 SVG)'
 * ```
 */
export const plots = {
  similarityHeatmap,
  temperatureEffects,
  templateGains,
  zeroShotBars,
  suiteBars,
  confusionMatrix,
  trainingCurves,
  embeddingMap,
  imageGrid,
  loadThumbnails,
  // Interactive (HTML in Jupyter and VS Code, the static SVG elsewhere):
  temperatureSlider,
  templatePicker,
  trainingReplay,
} as const;
