// The kernel treats '-' and '_' in a module name alike and shows '_'
// (/sys/module, /proc/modules, KBUILD_MODNAME, modprobe): compare and store
// names in that form.

/** The kernel's form of a module name: `hid-steam` → `hid_steam`. */
export const moduleName = (name: string): string => name.replace(/-/g, '_');

/** The module name of a module file: `kernel/drivers/hid/hid-steam.ko.xz` → `hid_steam`. */
export const moduleNameOfFile = (file: string): string => moduleName((file.split('/').pop() ?? file).replace(/\.ko(\.(xz|gz|zst))?$/, ''));
