// Loaded with `node --import` by the build bench: at exit, writes the
// process's peak resident set (KiB) to $RB_RSS_FILE.
import { writeFileSync } from 'node:fs';
import process from 'node:process';

process.on('exit', () => {
  if (process.env.RB_RSS_FILE) writeFileSync(process.env.RB_RSS_FILE, String(process.resourceUsage().maxRSS));
});
