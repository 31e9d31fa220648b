// Regenerates the generated parts of docs/: the CLI reference in docs/cli.md
// (from every command's --help) and the layer table in docs/architecture.md
// (from .dependency-cruiser.cjs). `npm run docs`; a fast test fails when a doc
// is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED, regenerate } from '../test/helpers/docs.js';

for (const block of GENERATED) {
  const doc = readFileSync(block.file, 'utf8');
  const fresh = regenerate(doc, block);
  if (fresh !== doc) writeFileSync(block.file, fresh);
  process.stdout.write(`${block.file}: ${fresh === doc ? 'up to date' : 'regenerated'}\n`);
}
