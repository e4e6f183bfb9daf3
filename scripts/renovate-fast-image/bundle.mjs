// Bundles Renovate's CommonJS entry point with esbuild's JavaScript API (bundle.sh runs it inside the image being
// derived). Usage: node bundle.mjs ESBUILD_MAIN_JS ENTRY OUTFILE
//
// A package that finds its own files through __dirname or __filename (azure-devops-node-api its package.json;
// hcl2json, rattler and one-ini their WebAssembly; libzip its emscripten module) would look beside the bundle
// instead. So in each CommonJS file of node_modules that uses them without declaring them, both become the
// file's own path in node_modules, where the package stays; then the package can be bundled like any other.
//
// Renovate's entry registers source-map-support, which maps stack frames through each file's source map. The bundle
// has none, so all it could do is read the whole 30 MB bundle and scan it for a sourceMappingURL the first time a
// stack trace is formatted. Every container formats one at start-up (Node's domain module, which roarr loads, takes a
// stack when it loads), and paid about 0.4 CPU-s for it. The bundle leaves the registration out; stack traces keep
// the positions they had, which are the bundle's own.
//
// A bundled package's top-level code runs when the first module that imports it loads, and Renovate's registries
// import every datasource and platform at start-up. The AWS SDK clients are the largest of those (about 0.1 s of
// every container's start-up) and serve only the AWS datasources and the CodeCommit platform. Renovate imports
// them through a stand-in with the same export names, each a getter that loads the client on first use.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const [esbuildMain, entry, outfile] = process.argv.slice(2);
const esbuild = await import(esbuildMain);

// Kept out of the bundle and loaded from node_modules as before: native addons and packages that may be absent
// (re2, dtrace-provider - optional to bunyan -, performance), prettier and openpgp/pgp, which Renovate loads only
// when it needs them, and OpenTelemetry's loader hooks, which must see real modules.
const external = [
  're2',
  'dtrace-provider',
  'performance',
  'prettier',
  'openpgp',
  '@renovatebot/pgp',
  'import-in-the-middle',
  'require-in-the-middle',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
];

const USES = /(?<![\w$.'"])__(dirname|filename)(?![\w$'"])/g;
const DECLARES = /\b(?:var|let|const|function)\s+__(?:dirname|filename)\b/;

const ownPaths = {
  name: 'own-paths',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      USES.lastIndex = 0;
      if (!USES.test(source) || DECLARES.test(source)) {
        return undefined; // esbuild loads it as usual
      }
      const paths = { dirname: JSON.stringify(dirname(args.path)), filename: JSON.stringify(args.path) };
      return { contents: source.replace(USES, (_match, which) => paths[which]), loader: 'js' };
    });
  },
};

const SOURCE_MAP_REGISTRATION = /^source-map-support\/register(?:\.js)?$/;

const withoutSourceMapRegistration = {
  name: 'without-source-map-registration',
  setup(build) {
    build.onResolve({ filter: SOURCE_MAP_REGISTRATION }, (args) => ({ path: args.path, namespace: 'left-out' }));
    build.onLoad({ filter: /.*/, namespace: 'left-out' }, () => ({ contents: '', loader: 'js' }));
  },
};

const LOADED_ON_FIRST_USE = [
  '@aws-sdk/client-codecommit',
  '@aws-sdk/client-ec2',
  '@aws-sdk/client-ecr',
  '@aws-sdk/client-eks',
  '@aws-sdk/client-rds',
  '@aws-sdk/client-s3',
  '@aws-sdk/credential-providers',
];

// The stand-in's export names are the package's own, read here: a CommonJS module's names are known only once it
// has run, and esbuild's interop copies them from the stand-in when the importing module loads.
function standIn(name) {
  const exported = Object.keys(createRequire(entry)(name));
  return [
    `let loaded;`,
    `const load = () => (loaded ??= require(${JSON.stringify(name)}));`,
    `Object.defineProperty(exports, '__esModule', { value: true });`,
    `for (const key of ${JSON.stringify(exported)}) {`,
    `  Object.defineProperty(exports, key, { enumerable: true, get: () => load()[key] });`,
    `}`,
  ].join('\n');
}

const loadedOnFirstUse = {
  name: 'loaded-on-first-use',
  setup(build) {
    const names = new Set(LOADED_ON_FIRST_USE);
    build.onResolve({ filter: /^@aws-sdk\// }, (args) =>
      names.has(args.path) && args.namespace === 'file' ? { path: args.path, namespace: 'stand-in' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({
      contents: standIn(args.path),
      loader: 'js',
      resolveDir: dirname(entry), // its require() finds the real package where Renovate's own imports did
    }));
  },
};

await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${process.versions.node.split('.')[0]}`,
  charset: 'ascii',
  logLevel: 'error',
  external,
  plugins: [ownPaths, withoutSourceMapRegistration, loadedOnFirstUse],
  // import.meta.url becomes the bundle's own URL, so Renovate's createRequire(import.meta.url) finds
  // ../package.json and its dependencies from the bundle's directory, one level below the package like dist/.
  define: { 'import.meta.url': '__renovateImportMetaUrl' },
  banner: { js: 'const __renovateImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
