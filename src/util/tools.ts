// Programs rebootless runs, and the Debian package that provides each.
// One table, so the process runner and `doctor` can never disagree.

export interface ToolInfo {
  tool: string;
  packageName: string;
}

export const TOOLS: readonly ToolInfo[] = [
  { tool: 'gcc', packageName: 'gcc' },
  { tool: 'gcc-12', packageName: 'gcc-12' },
  { tool: 'make', packageName: 'make' },
  { tool: 'flex', packageName: 'flex' },
  { tool: 'bison', packageName: 'bison' },
  { tool: 'bc', packageName: 'bc' },
  { tool: 'xz', packageName: 'xz-utils' },
  { tool: 'cpio', packageName: 'cpio' },
  { tool: 'tar', packageName: 'tar' },
  { tool: 'qemu-system-x86_64', packageName: 'qemu-system-x86' },
  { tool: 'busybox', packageName: 'busybox-static' },
  { tool: 'apt-get', packageName: 'apt' },
  { tool: 'apt-cache', packageName: 'apt' },
  { tool: 'dpkg-deb', packageName: 'dpkg' },
  { tool: 'dpkg-query', packageName: 'dpkg' },
  { tool: 'readelf', packageName: 'binutils' },
  { tool: 'depmod', packageName: 'kmod' },
  { tool: 'ldd', packageName: 'libc-bin' },
];

export function packageForTool(tool: string): string {
  return TOOLS.find((t) => t.tool === tool)?.packageName ?? tool;
}
