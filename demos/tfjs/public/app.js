// The page: load the converted graph model and the tokenizer spec from this origin, then predict as the
// user types. `window.reviewDemo` is the page's small API for the end-to-end tests and the benchmark.

import * as tf from "@tensorflow/tfjs";

import { Tokenizer } from "./tokenizer.js";

const CHOICES = { backend: ["cpu", "webgl"], weights: ["float32", "float16"] };
const DEBOUNCE_MS = 150;
const BUILD_HINT = "make it with `npm run build-model -- --saved-model CORE --tokenizer DIR` in the demo folder (README.md, 'Your own model'), then reload";

const $ = (id) => document.getElementById(id);

/** Backend and weights from the URL (?backend=webgl&weights=float16), checked against the choices. */
function readConfig() {
  const params = new URLSearchParams(location.search);
  const config = { backend: params.get("backend") ?? "cpu", weights: params.get("weights") ?? "float32" };
  for (const [key, value] of Object.entries(config)) {
    if (!CHOICES[key].includes(value)) {
      throw new Error(`unknown ${key} ${JSON.stringify(value)} in the URL: use one of ${CHOICES[key].join(", ")}`);
    }
  }
  return config;
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${BUILD_HINT}`);
  return response.json();
}

/** Switch backend, fetch spec and model (counting the bytes), warm up once. */
async function load(config) {
  if (!(await tf.setBackend(config.backend))) {
    throw new Error(`the ${config.backend} backend does not start in this browser: choose cpu`);
  }
  await tf.ready();
  const tokenizer = new Tokenizer(await fetchJson("model/tokenizer.json"));
  let bytes = 0;
  const fetchFunc = async (url, init) => {
    const response = await fetch(url, init);
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}: ${BUILD_HINT}`);
    bytes += Number(response.headers.get("Content-Length") ?? 0);
    return response;
  };
  const model = await tf.loadGraphModel(`model/${config.weights}/model.json`, { fetchFunc });
  const ready = { model, tokenizer, bytes };
  await predict(ready, ["warm up"]); // the first call compiles the kernels (webgl: shaders)
  return ready;
}

/** Texts → probabilities, one array per text; null for a text with no words. The model does answer
 * those (with its output bias alone: the same probabilities for every such text), but that answer says
 * nothing about the text, so the page chooses to show none. */
async function predict({ model, tokenizer }, texts) {
  const encoded = texts.map((text) => tokenizer.encode(text));
  const rows = encoded.filter((ids) => ids[0] !== tokenizer.padId);
  if (!rows.length) return texts.map(() => null);
  const length = tokenizer.sequenceLength;
  const batch = new Int32Array(rows.length * length);
  rows.forEach((ids, i) => batch.set(ids, i * length));
  const output = tf.tidy(() => model.predict(tf.tensor2d(batch, [rows.length, length], "int32")));
  let probabilities;
  try {
    probabilities = await output.array();
  } finally {
    output.dispose();
  }
  return encoded.map((ids) => (ids[0] === tokenizer.padId ? null : probabilities.shift()));
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("status").textContent = "Not working: see the message below.";
  document.body.dataset.state = "failed";
}

function drawBars(labels) {
  $("bars").replaceChildren(
    ...labels.map((label) => {
      const row = document.createElement("div");
      row.className = "bar";
      row.innerHTML = `<label for="p-${label}"></label><meter id="p-${label}" min="0" max="1" value="0"></meter>
        <span class="percent" id="pct-${label}">—</span>`;
      row.querySelector("label").textContent = label;
      return row;
    }),
  );
}

function showPrediction(labels, probabilities, milliseconds) {
  labels.forEach((label, i) => {
    $(`p-${label}`).value = probabilities[i];
    $(`pct-${label}`).textContent = `${(100 * probabilities[i]).toFixed(1)} %`;
  });
  const best = probabilities.indexOf(Math.max(...probabilities));
  $("label").textContent = labels[best];
  $("inference-time").textContent = `${milliseconds.toFixed(1)} ms (tokenize + predict)`;
}

function clearPrediction(labels, message) {
  labels.forEach((label) => {
    $(`p-${label}`).value = 0;
    $(`pct-${label}`).textContent = "—";
  });
  $("label").textContent = "—";
  $("status").textContent = message;
}

/** Predict for the text area's content; empty or word-less text gets a message, not bars. */
async function update(ready) {
  const text = $("review").value;
  const { labels } = ready.tokenizer;
  const start = performance.now();
  const [probabilities] = text.trim() ? await predict(ready, [text]) : [null];
  if (probabilities) {
    showPrediction(labels, probabilities, performance.now() - start);
    $("status").textContent = "Prediction updated.";
  } else {
    clearPrediction(labels, text.trim() ? "No words in this text (only punctuation or spaces)." : "Type a review to see a prediction.");
  }
  window.reviewDemo.shownFor = text; // lets a test wait for the prediction of exactly what it typed
}

function wireControls(config, ready) {
  for (const key of Object.keys(CHOICES)) {
    $(key).value = config[key];
    $(key).addEventListener("change", () => {
      const params = new URLSearchParams(location.search);
      params.set(key, $(key).value);
      location.search = params.toString();
    });
  }
  if (!ready) return;
  let timer;
  $("review").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => update(ready).catch((error) => showError(`Prediction failed: ${error.message}`)), DEBOUNCE_MS);
  });
  $("review").disabled = false;
}

async function main() {
  window.reviewDemo = { state: "loading", shownFor: null };
  let config;
  try {
    config = readConfig();
    const ready = await load(config);
    const readyAt = performance.now(); // milliseconds since navigation started
    drawBars(ready.tokenizer.labels);
    wireControls(config, ready);
    $("model-size").textContent = `${(ready.bytes / 1024).toFixed(0)} KiB (${config.weights} weights)`;
    $("load-time").textContent = `${readyAt.toFixed(0)} ms after the page was requested`;
    $("backend-used").textContent = tf.getBackend();
    $("status").textContent = "Ready: type a review.";
    Object.assign(window.reviewDemo, {
      state: "ready",
      info: { ...config, backend: tf.getBackend(), modelBytes: ready.bytes, readyMs: readyAt, tfjs: tf.version.tfjs },
      predict: (texts) => predict(ready, texts),
    });
    document.body.dataset.state = "ready";
    if ($("review").value) await update(ready);
  } catch (error) {
    if (config) wireControls(config, null);
    showError(`Could not start the model: ${error.message}`);
    window.reviewDemo.state = "failed";
    window.reviewDemo.error = error.message;
  }
}

main();
