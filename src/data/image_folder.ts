/**
 * Image folders in torchvision's `ImageFolder` convention: one folder per class, images inside.
 *
 * ```
 * root/
 *   classes.json          optional: { "folder": "display name" }
 *   golden_retriever/     → class "golden retriever" (folder names sorted; `_` read as a space)
 *     001.jpg
 *     more/002.png        (sub-folders belong to their class, as in torchvision)
 *   tabby_cat/
 *     …
 * ```
 *
 * list class folders (sorted) → walk each (sorted, hidden files and other extensions skipped and listed)
 * → `ImageFolder`: paths and labels now, pixels only when iterated (see `ImageDataset`).
 * @module
 */
import { join } from "node:path";
import { DatasetError } from "../errors.ts";
import {
  type DatasetItem,
  IMAGE_EXTENSIONS,
  ImageDataset,
  isHidden,
  isImageFile,
  type OnImageError,
  type SkippedFile,
} from "./dataset.ts";

/** The optional file beside the class folders that renames classes: `{ "folder": "display name" }`. */
export const CLASSES_FILE = "classes.json";

/** One image of an image folder. */
export interface FolderItem extends DatasetItem {
  /** Class index: position of the class folder among the sorted folders. */
  label: number;
  /** The class's display name. */
  className: string;
}

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** Unreadable images: throw their error while iterating (default), or skip them and list them in `failed`. */
  onError?: OnImageError;
  /**
   * Display names instead of the folder names: an object `{ folder: name }` (folders not named keep
   * their own name), or a list with one name per folder in sorted order. Overrides `classes.json`.
   */
  classes?: Record<string, string> | readonly string[];
  /** Keep class folders that hold no images (default false: such a folder is an error). */
  allowEmptyClasses?: boolean;
}

/**
 * An image folder: the classes and every image's path and label, decoded lazily.
 * @example
 * ```ts
 * import { loadImageFolder } from "./image_folder.ts";
 * import { writeShapesFolder } from "./shapes_folder.ts";
 * const { root } = await writeShapesFolder(await Deno.makeTempDir(), { perClass: 2, classes: ["circle", "star"] });
 * const data = await loadImageFolder(root);
 * [data.classes, data.items.length]; // → [["circle", "star"], 4]
 * ```
 */
export class ImageFolder extends ImageDataset<FolderItem> {
  /** The folder given to `loadImageFolder`. */
  readonly root: string;
  /** Class display names, by label. */
  readonly classes: readonly string[];
  /** Class folder names, by label (sorted). */
  readonly folders: readonly string[];

  /** Made by {@link loadImageFolder}, which lists and checks the folder. */
  constructor(
    root: string,
    folders: string[],
    classes: string[],
    items: FolderItem[],
    skipped: SkippedFile[],
    onError: OnImageError,
  ) {
    super(items, skipped, onError);
    this.root = root;
    this.folders = folders;
    this.classes = classes;
  }

  /** Every image's label, in order. */
  get labels(): number[] {
    return this.items.map((item) => item.label);
  }

  /** Images per class, by label. */
  get counts(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (const item of this.items) counts[item.label]++;
    return counts;
  }
}

/** torchvision reads a folder name as the class name; clipkit also reads `_` as a space (`tabby_cat` → `tabby cat`). */
export function folderDisplayName(folder: string): string {
  return folder.replaceAll("_", " ");
}

async function entries(dir: string): Promise<Deno.DirEntry[]> {
  const list = await Array.fromAsync(Deno.readDir(dir));
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function isDirectory(path: string, entry: Deno.DirEntry): Promise<boolean> {
  if (entry.isDirectory) return true;
  if (!entry.isSymlink) return false;
  return await Deno.stat(path).then((s) => s.isDirectory, () => false);
}

/** Image files under `dir`, recursively, in sorted order (torchvision walks sub-folders of a class too). */
async function walkClass(dir: string, images: string[], skipped: SkippedFile[]): Promise<void> {
  for (const entry of await entries(dir)) {
    const path = join(dir, entry.name);
    if (isHidden(entry.name)) {
      skipped.push({ path, reason: "hidden" });
    } else if (await isDirectory(path, entry)) {
      await walkClass(path, images, skipped);
    } else if (!isImageFile(entry.name)) {
      skipped.push({ path, reason: `not an image (${IMAGE_EXTENSIONS.join(", ")})` });
    } else {
      images.push(path);
    }
  }
}

/**
 * Every image under a folder, at any depth, without classes (clip-retrieval's "folder of images" input):
 * sorted paths, hidden files and other extensions skipped and listed. Nothing is decoded here.
 * @example
 * ```ts
 * import { loadImageFiles } from "./image_folder.ts";
 * const data = await loadImageFiles("models/samples"); // 12 PNGs and labels.json
 * data.paths.slice(0, 2); // → ["models/samples/01_red_circle.png", "models/samples/02_orange_star.png"]
 * ```
 */
export async function loadImageFiles(
  root: string,
  options: { onError?: OnImageError } = {},
): Promise<ImageDataset<DatasetItem>> {
  const stat = await Deno.stat(root).catch(() => undefined);
  if (!stat?.isDirectory) {
    throw new DatasetError(stat ? "not a folder" : "no such image folder", {
      path: root,
      fix: "pass a folder of images, or a CSV/JSONL caption file",
    });
  }
  const paths: string[] = [];
  const skipped: SkippedFile[] = [];
  await walkClass(root, paths, skipped);
  if (paths.length === 0) {
    throw new DatasetError("no images in the folder", {
      path: root,
      fix: `put ${IMAGE_EXTENSIONS.join("/")} files in it (sub-folders are read too)`,
    });
  }
  return new ImageDataset(paths.map((path) => ({ path })), skipped, options.onError ?? "throw");
}

/** Display names from `classes` (an option or classes.json), checked against the folders. */
function displayNames(
  folders: string[],
  classes: Record<string, string> | readonly string[] | undefined,
  source: string,
): string[] {
  const names = folders.map(folderDisplayName);
  if (classes === undefined) return names;
  if (Array.isArray(classes)) {
    if (classes.length !== folders.length || classes.some((c) => typeof c !== "string" || c.trim() === "")) {
      throw new DatasetError(
        `${source} lists ${classes.length} class names for ${folders.length} class folders`,
        {
          fix: `give one non-empty name per folder, in sorted folder order: ${
            folders.slice(0, 4).join(", ")
          }…`,
        },
      );
    }
    return [...classes];
  }
  if (typeof classes !== "object" || classes === null) {
    throw new DatasetError(`${source} is not an object of folder → name`, {
      fix: `write it as { "${folders[0]}": "display name", … }`,
    });
  }
  for (const [folder, name] of Object.entries(classes)) {
    const at = folders.indexOf(folder);
    if (at < 0) {
      throw new DatasetError(`${source} renames "${folder}", which is no class folder`, {
        fix: `use folder names as keys (${folders.slice(0, 4).join(", ")}…), or remove the entry`,
      });
    }
    if (typeof name !== "string" || name.trim() === "") {
      throw new DatasetError(`${source} gives folder "${folder}" the name ${JSON.stringify(name)}`, {
        fix: "give every folder a non-empty string",
      });
    }
    names[at] = name;
  }
  return names;
}

async function readClassesFile(path: string): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DatasetError(`${CLASSES_FILE} is not valid JSON (${(error as Error).message})`, {
      path,
      fix: `write it as { "folder": "display name", … }, or delete it to use the folder names`,
      cause: error,
    });
  }
}

/**
 * List an image folder in torchvision's `ImageFolder` convention (`root/<class>/<image>`): class names
 * from the folder names (sorted; `_` read as a space; `classes.json` beside them, or `options.classes`,
 * renames them). Nothing is decoded here: iterate the result, or ask it for `batches()`.
 *
 * An empty folder, images directly in `root`, or a class folder without images throw a `DatasetError`.
 * @example
 * ```ts
 * import { loadImageFolder } from "./image_folder.ts";
 * const root = await Deno.makeTempDir(); // root/<class>/<image>
 * for (const [folder, file] of [["red_circle", "01_red_circle.png"], ["blue_square", "06_blue_square.png"]]) {
 *   await Deno.mkdir(`${root}/${folder}`);
 *   await Deno.copyFile(`models/samples/${file}`, `${root}/${folder}/${file}`);
 * }
 * await Deno.writeTextFile(`${root}/red_circle/.DS_Store`, "");
 * const data = await loadImageFolder(root);
 * data.classes; // → ["blue square", "red circle"]
 * data.items[0].path.slice(root.length); // → "/blue_square/06_blue_square.png"
 * [data.items[0].label, data.items[0].className]; // → [0, "blue square"]
 * data.skipped.map((s) => [s.path.slice(root.length), s.reason]); // → [["/red_circle/.DS_Store", "hidden"]]
 * ```
 */
export async function loadImageFolder(root: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
  const stat = await Deno.stat(root).catch(() => undefined);
  if (!stat) {
    throw new DatasetError("no such image folder", {
      path: root,
      fix: "check the path: an image folder holds one sub-folder per class (root/<class>/<image>)",
    });
  }
  if (!stat.isDirectory) {
    throw new DatasetError("not a folder", {
      path: root,
      fix: "pass a folder with one sub-folder per class; for a CSV or JSONL of captions use loadCaptions",
    });
  }
  const folders: string[] = [];
  const loose: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const entry of await entries(root)) {
    const path = join(root, entry.name);
    if (isHidden(entry.name)) skipped.push({ path, reason: "hidden" });
    else if (await isDirectory(path, entry)) folders.push(entry.name);
    else if (entry.name === CLASSES_FILE) continue;
    else if (isImageFile(entry.name)) loose.push(path);
    else skipped.push({ path, reason: "not in a class folder" });
  }
  if (folders.length === 0) {
    throw new DatasetError(
      loose.length
        ? `${loose.length} images lie directly in the folder, with no class folders`
        : "no class folders",
      {
        path: root,
        fix: loose.length
          ? "put the images in one sub-folder per class (root/<class>/<image>), as torchvision's ImageFolder reads them"
          : "an image folder holds one sub-folder per class with its images inside (root/<class>/<image>)",
      },
    );
  }
  const classesPath = join(root, CLASSES_FILE);
  const classes = options.classes ?? await readClassesFile(classesPath);
  const names = displayNames(folders, classes, options.classes ? "options.classes" : classesPath);
  const items: FolderItem[] = [];
  const empty: string[] = [];
  for (let label = 0; label < folders.length; label++) {
    const images: string[] = [];
    await walkClass(join(root, folders[label]), images, skipped);
    if (images.length === 0) empty.push(folders[label]);
    for (const path of images) items.push({ path, label, className: names[label] });
  }
  if (items.length === 0) {
    throw new DatasetError(`no images in any of the ${folders.length} class folders`, {
      path: root,
      fix: `add ${IMAGE_EXTENSIONS.join("/")} files to the class folders`,
    });
  }
  if (empty.length && !options.allowEmptyClasses) {
    throw new DatasetError(
      `class folder${empty.length > 1 ? "s" : ""} ${empty.map((f) => `"${f}"`).join(", ")} hold no images`,
      {
        path: join(root, empty[0]),
        fix: `add ${
          IMAGE_EXTENSIONS.join("/")
        } files, remove the folder, or pass { allowEmptyClasses: true }`,
      },
    );
  }
  const dupes = names.filter((n, i) => names.indexOf(n) !== i);
  if (dupes.length) {
    throw new DatasetError(`two class folders have the display name "${dupes[0]}"`, {
      path: root,
      fix: `rename one of them in ${CLASSES_FILE} ({ "folder": "display name" })`,
    });
  }
  return new ImageFolder(root, folders, names, items, skipped, options.onError ?? "throw");
}
