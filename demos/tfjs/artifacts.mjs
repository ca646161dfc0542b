// Where the demo finds the model folder convert.py wrote (float32/, float16/, tokenizer.json,
// test_vectors.json): --model-dir, else $MODEL_DIR, else model/ beside this file.

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const DEMO_DIR = dirname(fileURLToPath(import.meta.url));

/** The command that makes the model folder, as errors and the page name it. */
export const BUILD_HINT =
  "npm run build-model -- --saved-model CORE --tokenizer DIR (README.md, 'Your own model')";

export function modelDir(given) {
  return resolve(given ?? process.env.MODEL_DIR ?? join(DEMO_DIR, "model"));
}
