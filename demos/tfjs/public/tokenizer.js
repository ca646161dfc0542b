// The tokenizer spec (tokenizer.json in the model folder: README.md, "Your own model") in plain JavaScript.
//
// TensorFlow.js cannot run the model's string ops, so the page turns text into token ids itself and
// must do it exactly as the Keras TextVectorization layer did during training. The rules come from the
// spec file, not from this code; the shared test vectors (test/tokenizer.test.mjs) prove the match.
//
// Careful with JavaScript's toLowerCase(): it lowercases all of Unicode, TensorFlow only A–Z.

export const SPEC_VERSION = 1;
const ASCII_LOWERCASE = "ASCII A-Z only";

/** Lowercase A–Z only and delete the strip characters; every other character is kept as it is. */
export function standardize(text, stripChars) {
  let out = "";
  for (const ch of text) {
    if (stripChars.has(ch)) continue;
    const code = ch.charCodeAt(0);
    out += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : ch;
  }
  return out;
}

/** Words in order, then every run of `ngrams` adjacent words joined by one space (2..ngrams). */
export function tokens(text, { stripChars, splitOn, ngrams }) {
  const words = [];
  let word = "";
  for (const ch of standardize(text, stripChars)) {
    if (splitOn.has(ch)) {
      if (word) words.push(word);
      word = "";
    } else {
      word += ch;
    }
  }
  if (word) words.push(word);
  const grams = [...words];
  for (let width = 2; width <= ngrams; width++) {
    for (let i = 0; i + width <= words.length; i++) grams.push(words.slice(i, i + width).join(" "));
  }
  return grams;
}

export class Tokenizer {
  /** Build from the parsed spec; refuses a spec whose rules this code does not implement. */
  constructor(spec) {
    if (spec?.spec_version !== SPEC_VERSION) {
      throw new Error(
        `tokenizer spec v${spec?.spec_version} is not supported (this page implements v${SPEC_VERSION}): ` +
          "export the model again and rebuild the demo",
      );
    }
    if (spec.lowercase !== ASCII_LOWERCASE) {
      throw new Error(`unsupported lowercasing rule ${JSON.stringify(spec.lowercase)} in the tokenizer spec`);
    }
    this.options = {
      stripChars: new Set(spec.strip_chars),
      splitOn: new Set(spec.split_on),
      ngrams: spec.ngrams,
    };
    this.sequenceLength = spec.sequence_length;
    this.padId = spec.pad_id;
    this.oovId = spec.oov_id;
    this.labels = spec.labels;
    // Ids 0 (padding) and 1 (out of vocabulary) are never looked up: a token spelled "" or "[UNK]" is OOV.
    this.index = new Map();
    spec.vocabulary.forEach((token, id) => {
      if (id > Math.max(this.padId, this.oovId)) this.index.set(token, id);
    });
  }

  /** Text → Int32Array of exactly `sequenceLength` ids (truncated, then padded). */
  encode(text) {
    const ids = new Int32Array(this.sequenceLength).fill(this.padId);
    const grams = tokens(text, this.options);
    const n = Math.min(grams.length, this.sequenceLength);
    for (let i = 0; i < n; i++) ids[i] = this.index.get(grams[i]) ?? this.oovId;
    return ids;
  }
}
