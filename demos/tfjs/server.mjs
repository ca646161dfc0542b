// Serves the demo from 127.0.0.1 with no dependencies: the page (public/), TensorFlow.js from the local
// npm install (never a CDN), and the converted model. Everything the page needs comes from this origin,
// so it works with no network at all. `npm start` runs it; `--port 0` picks a free port.
//
// Any static file server would do in production (nginx, a CDN, GitHub Pages): the page is plain files.

import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { parseArgs } from "node:util";

import { BUILD_HINT, DEMO_DIR, modelDir } from "./artifacts.mjs";

const HOST = "127.0.0.1";
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".bin": "application/octet-stream",
  ".png": "image/png",
};

/** URL prefix → folder. The first prefix that matches wins; nothing outside these folders is served. */
function mounts(model) {
  return [
    ["/model/", model],
    ["/vendor/tfjs/", join(DEMO_DIR, "node_modules", "@tensorflow", "tfjs", "dist")],
    ["/", join(DEMO_DIR, "public")],
  ];
}

/** The file for a request path, or null: no `..` escapes, no folders, no hidden files. */
function resolveFile(pathname, table) {
  for (const [prefix, root] of table) {
    if (!pathname.startsWith(prefix)) continue;
    const rest = pathname.slice(prefix.length) || "index.html";
    const file = normalize(join(root, rest));
    if (!file.startsWith(root + sep) || rest.split("/").some((part) => part.startsWith("."))) return null;
    return existsSync(file) && statSync(file).isFile() ? file : null;
  }
  return null;
}

function handler(table) {
  return (request, response) => {
    const send = (status, text) => {
      response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
      response.end(request.method === "HEAD" ? undefined : `${text}\n`);
    };
    if (request.method !== "GET" && request.method !== "HEAD") return send(405, "only GET and HEAD");
    let pathname;
    try {
      pathname = decodeURIComponent(new URL(request.url, `http://${HOST}`).pathname);
    } catch {
      return send(400, "malformed URL");
    }
    const file = pathname.includes("\0") ? null : resolveFile(pathname, table);
    if (!file) return send(404, `not found: ${pathname}`);
    response.writeHead(200, {
      "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
      "Content-Length": statSync(file).size,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    if (request.method === "HEAD") return response.end();
    createReadStream(file).pipe(response);
  };
}

/** --port (default $PORT or 8080; 0 picks a free port) and --model-dir. Throws a one-line reason on
 * anything else. */
function readArgs() {
  const { values } = parseArgs({
    options: { port: { type: "string", default: process.env.PORT ?? "8080" }, "model-dir": { type: "string" } },
  });
  if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) {
    throw new Error(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(values.port)}`);
  }
  return { port: Number(values.port), model: modelDir(values["model-dir"]) };
}

function main() {
  let port, model;
  try {
    ({ port, model } = readArgs());
  } catch (error) {
    console.error(`error: ${error.message.split("\n")[0]}`);
    process.exit(2);
  }
  if (!existsSync(join(model, "float32", "model.json"))) {
    console.warn(`warning: no converted model in ${model}: make it with ${BUILD_HINT} (the page will say so)`);
  }
  const server = createServer(handler(mounts(model)));
  server.on("error", (error) => {
    console.error(`error: cannot listen on ${HOST}:${port} (${error.code}): try another --port`);
    process.exit(1);
  });
  server.listen(port, HOST, () => {
    console.log(`TF.js demo at http://${HOST}:${server.address().port}/ (model from ${model}; Ctrl+C stops)`);
  });
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections(); // a browser keeps idle connections open; do not wait for them
    });
  }
}

main();
