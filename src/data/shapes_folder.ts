/**
 * A small image folder (and caption file) of shapes-world pictures, to try `deno task zeroshot`, `embed` and
 * `search` on without pictures of your own.
 *
 * test-split examples of the shapes world, in order → the first `perClass` of each class of the task →
 * `OUT/<class_name>/<n>.png` (ImageFolder's layout, `_` for spaces) + `OUT/captions.csv` (image_path, caption).
 *
 * Run: `deno run -A src/data/shapes_folder.ts --out my-shapes [--task shape] [--per-class 6] [--size 64]
 * [--medium classic|icon|outline|sketch|photo|pixel|mixed]`.
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodePng } from "../image/mod.ts";
import { writeAtomic } from "../fs.ts";
import { ShapesWorldError } from "../errors.ts";
import { classNames, exampleSeed, generateExample, type ShapesTask, type WorldMedium } from "./shapes.ts";

/** Options of {@link writeShapesFolder}. */
export interface ShapesFolderOptions {
  /** Which label the folders are named by: `"shape"` (default, 8 classes), `"colour"` (10) or `"combo"` (80). */
  task?: "shape" | "colour" | "combo";
  /** Images per class (default 6). */
  perClass?: number;
  /** Image side in pixels (default 64). */
  size?: number;
  /** Seed of the test split drawn from (default 2024). */
  seed?: number;
  /** Only these classes (default: every class of the task). */
  classes?: readonly string[];
  /** The look: `"mixed"` (default: each picture in one of the five media), a medium (`"sketch"`, …) or `"classic"`. */
  medium?: WorldMedium;
}

/** What {@link writeShapesFolder} wrote. */
export interface ShapesFolder {
  /** The folder written (`root/<class>/<i>.png` and `root/captions.csv`). */
  root: string;
  /** The class folders, in label order. */
  classes: string[];
  /** `root`-relative paths and captions, in the order of `captions.csv`. */
  images: { path: string; label: string; caption: string }[];
}

/** Examples searched before giving up on filling a class. */
const SEARCH_LIMIT = 200_000;

/**
 * Write shapes-world pictures as an image folder with a caption file.
 * @example
 * ```ts
 * import { writeShapesFolder } from "./shapes_folder.ts";
 * const folder = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 2, classes: ["circle", "star"] });
 * folder.images[0]; // → { path: "circle/0.png", label: "circle", caption: "there is a large white circle at the top" }
 * ```
 */
export async function writeShapesFolder(
  root: string,
  options: ShapesFolderOptions = {},
): Promise<ShapesFolder> {
  const task: ShapesTask = options.task ?? "shape";
  const perClass = options.perClass ?? 6;
  const size = options.size ?? 64;
  const seed = options.seed ?? 2024;
  const all = classNames(task);
  const classes = [...(options.classes ?? all)];
  for (const c of classes) {
    if (!all.includes(c)) {
      throw new ShapesWorldError(`"${c}" is no class of the ${task} task`, {
        fix: `use ${all.slice(0, 4).join(", ")}, …`,
      });
    }
  }
  const label = (ex: ReturnType<typeof generateExample>) =>
    task === "shape" ? ex.shape : task === "colour" ? ex.colour : `${ex.colour} ${ex.shape}`;
  const byClass = new Map(classes.map((c) => [c, [] as { caption: string; rgba: Uint8Array }[]]));
  for (let i = 0, filled = 0; i < SEARCH_LIMIT && filled < classes.length; i++) {
    const ex = generateExample(exampleSeed(seed, "test", i), {
      size,
      split: "test",
      medium: options.medium ?? "mixed",
    });
    const list = byClass.get(label(ex));
    if (!list || list.length >= perClass) continue;
    list.push({ caption: ex.caption, rgba: ex.rgba });
    if (list.length === perClass) filled++;
  }
  const images: ShapesFolder["images"] = [];
  for (const [name, list] of byClass) {
    for (const [n, ex] of list.entries()) {
      const path = `${name.replaceAll(" ", "_")}/${n}.png`;
      await writeAtomic(join(root, path), encodePng(size, size, ex.rgba), { mkdir: true });
      images.push({ path, label: name, caption: ex.caption });
    }
  }
  const csv = [
    "image_path,caption",
    ...images.map((im) => `${im.path},"${im.caption.replaceAll('"', '""')}"`),
  ];
  await writeAtomic(join(root, "captions.csv"), csv.join("\n") + "\n");
  return { root, classes, images };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string", default: "my-shapes" },
      task: { type: "string", default: "shape" },
      "per-class": { type: "string", default: "6" },
      size: { type: "string", default: "64" },
      seed: { type: "string", default: "2024" },
      medium: { type: "string", default: "mixed" },
    },
  });
  const folder = await writeShapesFolder(values.out, {
    task: values.task as ShapesFolderOptions["task"],
    perClass: Number(values["per-class"]),
    size: Number(values.size),
    seed: Number(values.seed),
    medium: values.medium as WorldMedium,
  });
  console.log(
    `wrote ${folder.images.length} images in ${folder.classes.length} class folders and captions.csv to ${folder.root}`,
  );
}
