/**
 * Prompt templates as data. A template is a sentence with `{}` where the class name goes
 * ("a photo of a {}."); a template set is a list of them, and a zero-shot head averages over the set.
 *
 * Sets live as JSON in `src/zeroshot/templates/` (`generic.json`, and `shapes.json` for the synthetic shapes once
 * it is there: every `*.json` in that folder is picked up). CLIP's published prompt file
 * (`{ "<Dataset>": { "classes": [...], "templates": [...] } }`) loads with {@link loadPromptFile}.
 */
import generic from "./templates/generic.json" with { type: "json" };
import { TemplateError } from "../errors.ts";
import { readJsonFile } from "../fs.ts";

/** The slot a template fills with the class name (Python's `str.format` placeholder). */
export const SLOT = "{}";

/** A named set of templates, with optional class names (e.g. a dataset from CLIP's prompt file). */
export interface TemplateSet {
  /** The set's name (`"generic"`, `"shapes"`, a dataset's name). */
  name: string;
  /** The templates, each with a `{}` slot. */
  templates: string[];
  /** Class names; an entry may be a list of synonyms. */
  classes?: (string | string[])[];
  /** What the set is for. */
  description?: string;
  /** The file it came from, when it came from one. */
  source?: string;
}

/**
 * Throw {@link TemplateError} unless `templates` is a non-empty list of strings that each contain `{}`.
 * @example
 * ```ts
 * import { assertTemplates } from "./templates.ts";
 * assertTemplates(["a photo of a cat."])
 * // throws TemplateError: templates: template 0 "a photo of a cat." has no {} slot. Fix: ...
 * ```
 */
export function assertTemplates(templates: readonly string[], where = "templates"): void {
  if (!Array.isArray(templates) || templates.length === 0) {
    throw new TemplateError(
      `${where}: the template list is empty`,
      { fix: 'pass at least one, e.g. ["a photo of a {}."] or templates.generic' },
    );
  }
  templates.forEach((t, i) => {
    if (typeof t !== "string") {
      throw new TemplateError(`${where}: template ${i} is ${JSON.stringify(t)}, not a string`, {
        fix: "pass templates as strings",
      });
    }
    if (!t.includes(SLOT)) {
      throw new TemplateError(
        `${where}: template ${i} ${JSON.stringify(t)} has no {} slot`,
        { fix: 'put {} where the class name goes, e.g. "a photo of a {}."' },
      );
    }
  });
}

/**
 * Throw {@link TemplateError} unless `classNames` is a non-empty list of non-empty names (or name lists).
 * @example
 * ```ts
 * import { assertClassNames } from "./templates.ts";
 * assertClassNames([]); // throws TemplateError: the class list is empty. Fix: ...
 * ```
 */
export function assertClassNames(classNames: readonly (string | readonly string[])[]): void {
  if (typeof classNames === "string") {
    throw new TemplateError(
      `the class list is one string, ${JSON.stringify(classNames)}, not a list of names`,
      {
        fix: `pass a list: [${JSON.stringify(classNames)}] (and more classes; one class alone always wins)`,
      },
    );
  }
  if (!Array.isArray(classNames) || classNames.length === 0) {
    throw new TemplateError("the class list is empty", {
      fix: 'pass at least one class name, e.g. ["cat", "dog"]',
    });
  }
  classNames.forEach((c, i) => {
    const names: unknown[] = typeof c === "string" ? [c] : c as unknown[];
    if (!Array.isArray(names)) {
      throw new TemplateError(`class ${i} is ${JSON.stringify(c)}, neither a name nor a list of names`, {
        fix: 'give each class as a name ("cat") or a list of synonyms (["cat", "kitten"])',
      });
    }
    if (names.length === 0 || names.some((n) => typeof n !== "string" || n.trim() === "")) {
      throw new TemplateError(
        `class ${i} ${JSON.stringify(c)} has an empty or missing name`,
        { fix: "give every class at least one non-empty name" },
      );
    }
  });
}

/**
 * Refuse a name that appears in two classes: both would get the same prompts and split its probability
 * evenly, silently. (CLIP's own ImageNet list has "missile" twice; `zeroShotClassifier`'s
 * `allowDuplicateNames: true` keeps such a list as it is, to reproduce CLIP exactly.)
 * @example
 * ```ts
 * import { assertDistinctClassNames } from "./templates.ts";
 * assertDistinctClassNames(["cat", ["dog", "puppy"]]); // fine
 * assertDistinctClassNames(["cat", "dog", "cat"]); // throws TemplateError: the name "cat" is in class 0 and class 2, …
 * ```
 */
export function assertDistinctClassNames(classNames: readonly (string | readonly string[])[]): void {
  const classOf = new Map<string, number>();
  classNames.forEach((c, i) => {
    for (const name of new Set<string>(typeof c === "string" ? [c] : c)) {
      const first = classOf.get(name);
      if (first !== undefined) {
        throw new TemplateError(
          `the name ${
            JSON.stringify(name)
          } is in class ${first} and class ${i}, so both would get the same ` +
            "prompts and split its probability",
          {
            fix:
              "list each class once (merge the two, or give them different names); to keep the list as it " +
              'is (as CLIP\'s ImageNet list, with "missile" twice), pass { allowDuplicateNames: true }',
          },
        );
      }
      classOf.set(name, i);
    }
  });
}

/**
 * Put a class name into a template (every `{}` is replaced, as Python's `template.format(name)` does for one).
 * @example
 * ```ts
 * import { fillTemplate } from "./templates.ts";
 * fillTemplate("a photo of a {}.", "goldfish"); // → "a photo of a goldfish."
 * ```
 */
export function fillTemplate(template: string, name: string): string {
  return template.replaceAll(SLOT, () => name);
}

/**
 * Read any of the accepted template-file shapes: a list of templates, `{ name?, templates, classes? }`, or
 * CLIP's prompt file `{ "<Dataset>": { classes, templates } }` (one set per dataset).
 * @example
 * ```ts
 * import { parseTemplateFile } from "./templates.ts";
 * parseTemplateFile({ templates: ["a {}."] }, "mine").map((s) => s.name); // → ["mine"]
 * ```
 */
export function parseTemplateFile(json: unknown, name: string, source?: string): TemplateSet[] {
  if (Array.isArray(json)) {
    assertTemplates(json, name);
    return [{ name, templates: json, source }];
  }
  if (json && typeof json === "object" && Array.isArray((json as { templates?: unknown }).templates)) {
    const set = json as Partial<TemplateSet>;
    assertTemplates(set.templates!, source ?? name);
    if (set.classes) assertClassNames(set.classes);
    return [{ ...set, name: set.name ?? name, templates: set.templates!, source }];
  }
  if (json && typeof json === "object") {
    return Object.entries(json as Record<string, unknown>).map(([dataset, entry]) => {
      const e = entry as Partial<TemplateSet> | null;
      if (!e || typeof e !== "object" || !Array.isArray(e.templates) || !Array.isArray(e.classes)) {
        throw new TemplateError(
          `${source ?? name}: entry ${JSON.stringify(dataset)} is not { classes: [...], templates: [...] }`,
          { fix: `use CLIP's prompt file format { "<Dataset>": { "classes": [...], "templates": [...] } }` },
        );
      }
      assertTemplates(e.templates, `${source ?? name} ${dataset}`);
      assertClassNames(e.classes);
      return { name: dataset, templates: e.templates, classes: e.classes, source };
    });
  }
  throw new TemplateError(
    `${source ?? name}: not a template file`,
    {
      fix: `use a JSON list of templates, { "templates": [...] }, ` +
        `or CLIP's { "<Dataset>": { "classes": [...], "templates": [...] } }`,
    },
  );
}

/**
 * Load a prompt file in CLIP's format (`{ "<Dataset>": { classes, templates } }`, as in the CLIP repository's
 * `data/prompts.md`; `../shared/clip/prompts.json` is one) into sets keyed by dataset name.
 * @example
 * ```ts
 * import { loadPromptFile } from "./templates.ts";
 * const prompts = await loadPromptFile("../shared/clip/prompts.json");
 * prompts.ImageNet.classes!.length; // → 1000
 * prompts.ImageNet.templates.length; // → 80
 * ```
 */
export async function loadPromptFile(path: string | URL): Promise<Record<string, TemplateSet>> {
  const json = await readJsonFile(path, "prompt file", {
    missing: TemplateError,
    malformed: TemplateError,
    fixMalformed: "correct or re-download it",
  });
  return Object.fromEntries(parseTemplateFile(json, "prompts", String(path)).map((s) => [s.name, s]));
}

const TEMPLATE_DIR = new URL("./templates/", import.meta.url);

/** Every `src/zeroshot/templates/*.json` besides the built-in generic set, read when this module may read files. */
function discoverTemplateFiles(): TemplateSet[] {
  if (TEMPLATE_DIR.protocol !== "file:" || typeof Deno === "undefined") return [];
  try {
    if (Deno.permissions.querySync({ name: "read", path: TEMPLATE_DIR }).state !== "granted") return [];
  } catch {
    return [];
  }
  const sets: TemplateSet[] = [];
  for (const entry of [...Deno.readDirSync(TEMPLATE_DIR)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isFile || !entry.name.endsWith(".json") || entry.name === "generic.json") continue;
    const url = new URL(entry.name, TEMPLATE_DIR);
    const name = entry.name.slice(0, -".json".length);
    const found = parseTemplateFile(JSON.parse(Deno.readTextFileSync(url)), name, url.pathname);
    // A single set is known by its file name; a multi-dataset file by "file.Dataset".
    sets.push(
      ...(found.length === 1
        ? [{ ...found[0], name }]
        : found.map((s) => ({ ...s, name: `${name}.${s.name}` }))),
    );
  }
  return sets;
}

/**
 * Every known template set with its details, keyed by name: `generic` and each `src/zeroshot/templates/*.json`
 * (e.g. `shapes`).
 */
export const templateSets: Record<string, TemplateSet> = Object.fromEntries(
  [{ ...(generic as TemplateSet), source: "src/zeroshot/templates/generic.json" }, ...discoverTemplateFiles()]
    .map((s) => [s.name, s]),
);

/**
 * The template lists by name.
 * @example
 * ```ts
 * import { templates } from "./templates.ts";
 * templates.generic[0]; // → "a photo of a {}."
 * Object.keys(templates); // → ["generic", "shapes"] once src/zeroshot/templates/shapes.json exists
 * ```
 */
export const templates: Record<string, string[]> = Object.fromEntries(
  Object.entries(templateSets).map(([name, set]) => [name, set.templates]),
);
