import { promises as fsp } from 'node:fs';

/** The value of one option in a kernel .config text (quotes removed), or undefined. */
export function parseConfigValue(text: string, key: string): string | undefined {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
  if (!m) return undefined;
  const raw = (m[1] as string).trim();
  return raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\"/g, '"') : raw;
}

export async function readConfigValue(file: string, key: string): Promise<string | undefined> {
  return parseConfigValue(await fsp.readFile(file, 'utf8'), key);
}
