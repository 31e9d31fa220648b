/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rebootless: the author API of a live patch, for the patch's own source.
 *
 *   #include <linux/rebootless.h>
 *
 * resolves from the rebootless package when a patched unit is compiled (the
 * package's include/ is searched after every kernel directory, so no kernel
 * header is ever shadowed). It adds nothing to the kernel: it names what the
 * livepatch core already offers in the way rebootless finds it in the object.
 *
 * Callbacks: the livepatch core calls them for the klp_object of the file
 * that registers them (vmlinux, or the module the file is built into):
 *
 *   static int enable_fix(struct klp_object *obj) { ...; return 0; }
 *   REBOOTLESS_PRE_PATCH(enable_fix);      // may refuse the patch: non-zero
 *   REBOOTLESS_POST_PATCH(fn);             // void fn(struct klp_object *)
 *   REBOOTLESS_PRE_UNPATCH(fn);            // void fn(struct klp_object *)
 *   REBOOTLESS_POST_UNPATCH(fn);           // void fn(struct klp_object *)
 *
 * One callback of each kind per target (vmlinux or one module) per patch.
 *
 * States (klp_state: patches that must know each other): a patch declares
 * the system states it sets up or keeps,
 *
 *   REBOOTLESS_STATE(ID, VERSION);
 *
 * and the livepatch core refuses to let it replace a loaded patch that
 * declares a state this one does not, or declares it at a higher version.
 * In a callback, klp_get_prev_state(ID) is the replaced patch's state (NULL
 * when it had none): what to take over.
 *
 * Shadow variables (new fields for objects that already exist): the core's
 * klp_shadow_get(), klp_shadow_alloc(), klp_shadow_get_or_alloc(),
 * klp_shadow_free() and klp_shadow_free_all(), from <linux/livepatch.h>,
 * included here. Free what the patch allocated from its post-unpatch
 * callback (klp_shadow_free_all(ID, NULL)).
 */
#ifndef _LINUX_REBOOTLESS_H
#define _LINUX_REBOOTLESS_H

#include <linux/compiler.h>
#include <linux/livepatch.h>

/*
 * A pointer to the callback in a section rebootless reads when it builds the
 * module (".rebootless.callback.KIND"); the pointer's type checks the
 * callback's. The section never reaches the module.
 */
#define __REBOOTLESS_CALLBACK(kind, type, fn)                                      \
	static __typeof__(type) const __rebootless_callback_##kind##_##fn __used       \
		__section(".rebootless.callback." #kind) = (fn)

#define REBOOTLESS_PRE_PATCH(fn) __REBOOTLESS_CALLBACK(pre_patch, int (*)(struct klp_object *), fn)
#define REBOOTLESS_POST_PATCH(fn) __REBOOTLESS_CALLBACK(post_patch, void (*)(struct klp_object *), fn)
#define REBOOTLESS_PRE_UNPATCH(fn) __REBOOTLESS_CALLBACK(pre_unpatch, void (*)(struct klp_object *), fn)
#define REBOOTLESS_POST_UNPATCH(fn) __REBOOTLESS_CALLBACK(post_unpatch, void (*)(struct klp_object *), fn)

/*
 * A state the patch declares: its id and version in ".rebootless.state",
 * read when rebootless builds the module (each entry: u64 id, u32 version,
 * u32 zero). The section never reaches the module.
 */
#define REBOOTLESS_STATE(id, version)                                              \
	static const struct { unsigned long long s_id; unsigned int s_version, s_pad; } \
		__UNIQUE_ID(rebootless_state) __used __aligned(8)                         \
		__section(".rebootless.state") = { (id), (version), 0 }

#endif /* _LINUX_REBOOTLESS_H */
