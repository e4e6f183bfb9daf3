#!/usr/bin/env -S node --max-semi-space-size=64
// Starts Renovate from its one-file bundle (renovate.cjs, made by bundle.sh) with a V8 code cache that was
// written after a whole Renovate run when the image was built.
//
// Why not Node's own NODE_COMPILE_CACHE: it stores a module's code as compiled at load time, i.e. only the
// top-level code, so every function Renovate calls is still compiled again in every container. A cache made
// by vm.Script#createCachedData() at the end of a run holds every function that run compiled.
// V8 checks the cache against its own version, its flags and the source; a cache it rejects costs nothing but
// the saving, and Renovate runs as without it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const bundle = path.join(__dirname, 'renovate.cjs');
const cacheFile = `${bundle}.v8cache`;
// Set only while the image is built: run once without the cache and write it at exit.
const writingCache = process.env.RENOVATE_FAST_START_WRITE_CACHE === '1';
delete process.env.RENOVATE_FAST_START_WRITE_CACHE;

function readCache() {
  if (writingCache) {
    return undefined;
  }
  try {
    return fs.readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

const cachedData = readCache();
// Module.wrap gives the bundle the CommonJS scope it was built for; the shebang line is not JavaScript.
// esbuild writes ASCII only (non-ASCII characters become escapes), so latin1 reads it exactly, without UTF-8 decoding.
const source = Module.wrap(fs.readFileSync(bundle, 'latin1').replace(/^#!.*/, ''));
const script = new vm.Script(source, {
  filename: bundle,
  cachedData,
  // Renovate imports configuration files (config.js, .mjs) at run time.
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (process.env.RENOVATE_FAST_START_DEBUG === '1') {
  const state = cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  process.stderr.write(`renovate-fast-start: code cache ${state} (${cachedData?.length ?? 0} bytes)\n`);
}
if (writingCache) {
  process.once('exit', () => {
    fs.writeFileSync(cacheFile, script.createCachedData(), { mode: 0o644 });
  });
}

const bundleModule = new Module(bundle, module);
bundleModule.filename = bundle;
bundleModule.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext()(bundleModule.exports, Module.createRequire(bundle), bundleModule, bundle, __dirname);
