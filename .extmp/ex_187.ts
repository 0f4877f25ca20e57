import { worldCaption } from "file:///work/main/src/data/world.ts";
const c = worldCaption(42, "all", "pixel");
console.log("@@ L190:\n   want " + "[\"white\", \"an image of a giant disc in purple\"]" + "\n   got  " + Deno.inspect(await ([c.background, c.caption]), { depth: 8, iterableLimit: 300, breakLength: 1e9, strAbbreviateSize: 1e6 }));
