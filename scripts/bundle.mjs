// The installed command, bundled: dist/cli/main.js and the modules it loads
// become a few files in dist/bin/ (a chunk per lazily loaded command), so
// Node resolves and compiles about five files at start instead of fifty:
// about 50 ms of each command's start (more in the emulated guest). The
// WebAssembly decoder stays a package of its own, loaded when first used.
// dist/cli/main.js (what tsc writes) keeps working and is what the tests
// import; `npm run build` writes both.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist/bin', { recursive: true, force: true });
// commander requires node:child_process when it loads, for subcommands that are programs of their
// own, which rebootless has none of; loading it (and node:net behind it) costs each start about
// 10 ms. commander's copy is handed over when first used instead.
const lazyChildProcess = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) => (/[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'rebootless-lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'rebootless-lazy' }, () => ({
      contents: "let real; module.exports = new Proxy({}, { get: (_, key) => (real ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: { rebootless: 'dist/cli/main.js' },
  outdir: 'dist/bin',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['iced-x86'],
  // commander is CommonJS: its require() of Node's modules needs a real require
  banner: { js: "import { createRequire as rebootlessRequire } from 'node:module';\nconst require = rebootlessRequire(import.meta.url);" },
  plugins: [lazyChildProcess],
  logLevel: 'warning',
});
