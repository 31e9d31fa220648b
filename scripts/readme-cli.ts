// Regenerates the CLI reference in README.md from the commands' --help.
// `npm run readme`; a fast test fails when the README is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { cliReferenceBlock, replaceReference } from '../test/helpers/readme.js';

const readme = readFileSync('README.md', 'utf8');
writeFileSync('README.md', replaceReference(readme, cliReferenceBlock()));
