// Where the demo finds what `python -m nowwhat export` and `python -m nowwhat tfjs convert` built.
// The repository's build folder, or $NOWWHAT_BUILD when set (the same rule as the Python package).

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const DEMO_DIR = dirname(fileURLToPath(import.meta.url));

export function buildDir() {
  return resolve(process.env.NOWWHAT_BUILD ?? join(DEMO_DIR, "..", "..", "build"));
}

/** The converted TF.js models (float32/, float16/) with the tokenizer spec they were built with. */
export function modelDir() {
  return join(buildDir(), "tfjs", "model");
}

export function tokenizerExportDir() {
  return join(buildDir(), "export", "tokenizer");
}
