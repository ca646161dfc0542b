// The JavaScript tokenizer must give the Python pipeline's ids for every test vector the model folder
// carries (convert.py copies test_vectors.json there). Run: npm test (MODEL_DIR: another model folder).

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { BUILD_HINT, modelDir } from "../artifacts.mjs";
import { Tokenizer, standardize, tokens } from "../public/tokenizer.js";

function readJson(path) {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: make the model folder with ${BUILD_HINT}`);
  }
  return JSON.parse(readFileSync(path, "utf8"));
}

const dir = modelDir();
const spec = readJson(join(dir, "tokenizer.json"));
const vectors = readJson(join(dir, "test_vectors.json"));
const tokenizer = new Tokenizer(spec);

describe("the model folder's test vectors", () => {
  it("are there", () => {
    assert.ok(Array.isArray(vectors) && vectors.length > 0, "test_vectors.json holds no vectors");
  });

  for (const vector of vectors) {
    it(`encodes ${vector.name} exactly as TensorFlow`, () => {
      const ids = tokenizer.encode(vector.text);
      assert.equal(ids.length, spec.sequence_length);
      assert.deepEqual(Array.from(ids.subarray(0, vector.ids.length)), vector.ids);
      assert.ok(ids.subarray(vector.ids.length).every((id) => id === spec.pad_id), "padding after the ids");
    });
  }
});

describe("spec rules that JavaScript gets wrong by default", () => {
  const options = { stripChars: new Set(spec.strip_chars), splitOn: new Set(spec.split_on), ngrams: 2 };

  it("lowercases ASCII only, unlike toLowerCase()", () => {
    assert.equal(standardize("ÉCOLE Café ΣΟΦΙΑ", options.stripChars), "École café ΣΟΦΙΑ");
  });

  it("does not split on non-ASCII spaces, unlike /\\s/", () => {
    assert.deepEqual(tokens("a\u00a0b c", options), ["a\u00a0b", "c", "a\u00a0b c"]);
  });

  it("keeps emoji (surrogate pairs) whole and strips HTML punctuation only", () => {
    assert.deepEqual(tokens("<br />Yum 😍!", options), ["br", "yum", "😍", "br yum", "yum 😍"]);
  });

  it("maps unknown words to the OOV id and truncates long text to the sequence length", () => {
    assert.deepEqual(Array.from(tokenizer.encode("zzqxv flurbnog").subarray(0, 2)), [1, 1]);
    assert.equal(tokenizer.encode("good ".repeat(5000)).length, spec.sequence_length);
  });

  it("never looks up the padding or OOV entries as words", () => {
    assert.equal(tokenizer.index.has(""), false);
    assert.equal(tokenizer.index.has("[UNK]"), false);
  });
});

describe("a spec this code does not implement is refused", () => {
  it("other spec version", () => {
    assert.throws(() => new Tokenizer({ ...spec, spec_version: 999 }), /export the model again/);
  });
  it("other lowercasing rule", () => {
    assert.throws(() => new Tokenizer({ ...spec, lowercase: "Unicode" }), /lowercasing rule/);
  });
  it("no spec at all", () => {
    assert.throws(() => new Tokenizer(undefined), /not supported/);
  });
});
