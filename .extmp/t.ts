import { ClipTokenizer } from "../src/mod.ts";
const tok = await ClipTokenizer.load("models/tiny-clip");
for (const w of ["photo", "cat", "of"]) console.log(w, tok.encode(w), tok.bpeSteps(w).at(-1));
