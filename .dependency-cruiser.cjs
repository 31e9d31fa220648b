// The layer rules (docs/architecture.md's table is generated from these): each folder under src/ may import only
// the folders listed for it. Checked by `npm run lint`.
const allowed = {
  errors: [],
  util: ['errors'],
  elf: ['errors', 'util'],
  'arch/x86_64': ['elf', 'errors', 'util'],
  diff: ['elf', 'arch/x86_64', 'errors', 'util'],
  klp: ['diff', 'elf', 'arch/x86_64', 'errors', 'util'],
  kernel: ['util', 'elf', 'errors'],
  kbuild: ['util', 'kernel', 'errors', 'elf'],
  pipeline: ['kernel', 'kbuild', 'diff', 'klp', 'elf', 'arch/x86_64', 'errors', 'util'],
  runtime: ['util', 'elf', 'errors'],
  vm: ['util', 'kernel', 'errors', 'elf'],
  fleet: ['runtime', 'kernel', 'elf', 'errors', 'util'],
  demo: ['pipeline', 'vm', 'kernel', 'elf', 'errors', 'util'],
};

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const layerRules = Object.entries(allowed).map(([layer, deps]) => ({
  name: `layer-${layer.replace('/', '-')}`,
  comment: `src/${layer} may import only: ${deps.length ? deps.join(', ') : 'nothing'} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^src/${esc(layer)}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/${esc(layer)}/`, ...deps.map((d) => `^src/${esc(d)}/`)],
  },
}));

module.exports = {  forbidden: [
    ...layerRules,
    {
      name: 'nothing-imports-cli',
      comment: 'nothing imports src/cli',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'cli-start-stays-light',
      comment:
        'every start of the CLI (--help included) loads main, program, context, options, version and commands/: they import no other part of src/; ' +
        'a command loads what it does from actions/ with import() when it runs (import type is free)',
      severity: 'error',
      from: { path: '^src/cli/(main|program|context|options|version)\\.ts$|^src/cli/commands/' },
      to: {
        path: '^src/',
        pathNot: '^src/cli/(program|context|options|version)\\.ts$|^src/cli/commands/|^src/util/progress\\.ts$',
        dependencyTypesNot: ['type-only', 'dynamic-import'],
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};

// The table itself, for docs/architecture.md's generated layer table (not a
// dependency-cruiser option: its own `allowed` key means something else).
Object.defineProperty(module.exports, 'layers', { value: allowed, enumerable: false });
