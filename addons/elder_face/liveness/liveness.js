// This file is part of the eldercare platform. See LICENSE.
// Silent liveness worker of elder_face (provider "human").
//
// Runs @vladmandic/human's antispoof and liveness models on the tfjs wasm
// backend, fully offline: the wasm binaries come from the local
// node_modules (wasmPath) and the models are read from disk through a
// file:// load router; nothing is fetched from the network.
//
// Protocol: one JSON object per line on stdin
//   {"id": 1, "width": W, "height": H, "rgb": "<base64 of W*H*3 bytes>"}
// one JSON object per line on stdout
//   {"id": 1, "faces": N, "real": 0.93, "live": 0.88, "box": [x, y, w, h],
//    "score": 0.88} or {"id": 1, "error": "..."}
// The first line written is {"ready": true, "version": ..., "models": {...}}
// or {"ready": false, "error": "..."}.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const HERE = __dirname;
const HUMAN_DIR = path.join(HERE, 'node_modules', '@vladmandic', 'human');
const WASM_DIR = path.join(
  HERE, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + path.sep;
const MODEL_DIR = process.env.ELDER_FACE_HUMAN_MODELS
  || path.join(HUMAN_DIR, 'models');

function write(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// Refuse any network access from this process: models and wasm are local.
for (const name of ['fetch']) {
  if (typeof globalThis[name] === 'function') {
    const original = globalThis[name];
    globalThis[name] = (url, ...args) => {
      const text = String(url && url.url ? url.url : url);
      if (text.startsWith('file://') || text.startsWith('/')) {
        return original(url, ...args);
      }
      return Promise.reject(new Error('network access refused: ' + text));
    };
  }
}

function fileHandler(url) {
  const file = decodeURIComponent(url.replace(/^file:\/\//, ''));
  return {
    load: async () => {
      const model = JSON.parse(fs.readFileSync(file, 'utf8'));
      const dir = path.dirname(file);
      const specs = [];
      const buffers = [];
      for (const group of model.weightsManifest || []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          buffers.push(fs.readFileSync(path.join(dir, p)));
        }
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: model.modelTopology,
        format: model.format,
        generatedBy: model.generatedBy,
        convertedBy: model.convertedBy,
        signature: model.signature,
        userDefinedMetadata: model.userDefinedMetadata,
        modelInitializer: model.modelInitializer,
        weightSpecs: specs,
        weightData: all.buffer.slice(
          all.byteOffset, all.byteOffset + all.byteLength),
      };
    },
  };
}

async function main() {
  const Human = require(path.join(HUMAN_DIR, 'dist', 'human.node-wasm.js'));
  const tf = require('@tensorflow/tfjs-core');
  tf.io.registerLoadRouter((url) => {
    const text = Array.isArray(url) ? url[0] : url;
    return typeof text === 'string' && text.startsWith('file://')
      ? fileHandler(text) : null;
  });
  const config = {
    backend: 'wasm',
    wasmPath: WASM_DIR,
    wasmPlatformFetch: false,
    modelBasePath: 'file://' + MODEL_DIR + path.sep,
    cacheModels: false,
    validateModels: false,
    debug: false,
    async: true,
    warmup: 'none',
    // every request is a separate image: never reuse a previous result
    cacheSensitivity: 0,
    skipAllowed: false,
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: {
        rotation: false, maxDetected: 5, skipFrames: 0, skipTime: 0,
        minConfidence: 0.2,
      },
      mesh: { enabled: true },
      iris: { enabled: false },
      emotion: { enabled: false },
      description: { enabled: false },
      attention: { enabled: false },
      antispoof: { enabled: true, skipFrames: 0, skipTime: 0 },
      liveness: { enabled: true, skipFrames: 0, skipTime: 0 },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
  };
  const human = new (Human.Human || Human.default)(config);
  await human.load();
  await human.tf.ready();
  const models = {};
  for (const name of ['antispoof.json', 'liveness.json', 'blazeface.json',
    'facemesh.json']) {
    models[name] = fs.existsSync(path.join(MODEL_DIR, name));
  }
  write({ ready: true, version: human.version, backend: human.tf.getBackend(),
    models });

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let id = null;
    try {
      const req = JSON.parse(line);
      id = req.id;
      const { width, height } = req;
      const rgb = Buffer.from(req.rgb, 'base64');
      if (rgb.length !== width * height * 3) {
        throw new Error('bad image size');
      }
      const tensor = human.tf.tensor3d(
        new Int32Array(rgb), [height, width, 3], 'int32');
      let result;
      try {
        result = await human.detect(tensor);
      } finally {
        tensor.dispose();
      }
      const faces = result.face || [];
      if (!faces.length) {
        write({ id, faces: 0 });
        continue;
      }
      let best = faces[0];
      for (const f of faces) {
        if (f.box[2] * f.box[3] > best.box[2] * best.box[3]) best = f;
      }
      const real = typeof best.real === 'number' ? best.real : null;
      const live = typeof best.live === 'number' ? best.live : null;
      const score = (real === null || live === null)
        ? null : Math.min(real, live);
      write({ id, faces: faces.length, real, live, score, box: best.box,
        confidence: best.faceScore });
    } catch (err) {
      write({ id, error: String(err && err.message ? err.message : err) });
    }
  }
}

main().catch((err) => {
  write({ ready: false, error: String(err && err.message ? err.message : err) });
  process.exit(1);
});
