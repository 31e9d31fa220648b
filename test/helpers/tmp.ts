import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

// Temporary folders for tests, removed when the test file that made them ends:
// a run leaves nothing behind in the temp folder.

const made: string[] = [];

// registered once for every test file that imports this helper (vitest evaluates it per file)
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
