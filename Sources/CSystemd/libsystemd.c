// libsystemd, opened on first use instead of at start-up.
//
// Linked normally, libsystemd and the six libraries it needs (libcap, libgcrypt,
// libgpg-error, liblzma, libzstd, liblz4) are mapped and relocated before main() on every
// run: a third of `ec2-netgen --version`'s instructions and most of its page faults
// (bench/run, "Where the time goes"), paid also by `plan`, offline applies and
// `apply --root`, which never call it. So nothing links it; each function ec2-netgen
// uses is defined here under libsystemd's own name and forwards to the real one, looked
// up in libsystemd.so.0 the first time it is called. Swift code calls sd_* as usual.
//
// When libsystemd.so.0 cannot be opened (the packages depend on it, so this is a broken
// installation), every call fails as libsystemd itself reports failure: -ENOSYS for
// functions returning an errno, NULL for those returning an object.

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include "shim.h"

static void *libsystemd_symbol(const char *name) {
    static void *handle;
    void *library = __atomic_load_n(&handle, __ATOMIC_ACQUIRE);
    if (!library) {
        // dlopen is thread-safe and returns the same handle to every caller.
        library = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!library) return NULL;
        __atomic_store_n(&handle, library, __ATOMIC_RELEASE);
    }
    return dlsym(library, name);
}

// Defines `name` with libsystemd's signature: look the real function up once, then call it.
#define FORWARD(type, name, failure, params, args)                                    \
    type name params {                                                                \
        static type(*real) params;                                                    \
        type(*function) params = __atomic_load_n(&real, __ATOMIC_ACQUIRE);            \
        if (!function) {                                                              \
            function = (type(*) params)libsystemd_symbol(#name);                      \
            if (!function) return failure;                                            \
            __atomic_store_n(&real, function, __ATOMIC_RELEASE);                      \
        }                                                                             \
        return function args;                                                         \
    }

// sd-bus (NetworkdControl.swift)
FORWARD(int, sd_bus_open_system, -ENOSYS, (sd_bus **bus), (bus))
FORWARD(sd_bus *, sd_bus_flush_close_unref, NULL, (sd_bus *bus), (bus))
FORWARD(int, sd_bus_message_new_method_call, -ENOSYS,
        (sd_bus *bus, sd_bus_message **m, const char *destination, const char *path, const char *interface,
         const char *member),
        (bus, m, destination, path, interface, member))
FORWARD(int, sd_bus_message_append_basic, -ENOSYS, (sd_bus_message *m, char type, const void *p), (m, type, p))
FORWARD(int, sd_bus_message_read_basic, -ENOSYS, (sd_bus_message *m, char type, void *p), (m, type, p))
FORWARD(sd_bus_message *, sd_bus_message_unref, NULL, (sd_bus_message *m), (m))
FORWARD(int, sd_bus_call, -ENOSYS,
        (sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error, sd_bus_message **reply),
        (bus, m, usec, ret_error, reply))

// sd_bus_error_free returns nothing; without libsystemd there is nothing to free (an
// error is only filled in by a call that reached libsystemd).
void sd_bus_error_free(sd_bus_error *e) {
    static void (*real)(sd_bus_error *);
    void (*function)(sd_bus_error *) = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!function) {
        function = (void (*)(sd_bus_error *))libsystemd_symbol("sd_bus_error_free");
        if (!function) return;
        __atomic_store_n(&real, function, __ATOMIC_RELEASE);
    }
    function(e);
}

// sd-device (UdevDevices.swift)
FORWARD(int, sd_device_enumerator_new, -ENOSYS, (sd_device_enumerator **ret), (ret))
FORWARD(sd_device_enumerator *, sd_device_enumerator_unref, NULL, (sd_device_enumerator *e), (e))
FORWARD(int, sd_device_enumerator_allow_uninitialized, -ENOSYS, (sd_device_enumerator *e), (e))
FORWARD(int, sd_device_enumerator_add_match_subsystem, -ENOSYS, (sd_device_enumerator *e, const char *subsystem, int match),
        (e, subsystem, match))
FORWARD(sd_device *, sd_device_enumerator_get_device_first, NULL, (sd_device_enumerator *e), (e))
FORWARD(sd_device *, sd_device_enumerator_get_device_next, NULL, (sd_device_enumerator *e), (e))
FORWARD(int, sd_device_get_sysname, -ENOSYS, (sd_device *d, const char **ret), (d, ret))
FORWARD(int, sd_device_get_ifindex, -ENOSYS, (sd_device *d, int *ret), (d, ret))
FORWARD(int, sd_device_get_parent, -ENOSYS, (sd_device *d, sd_device **ret), (d, ret))
FORWARD(int, sd_device_get_driver, -ENOSYS, (sd_device *d, const char **ret), (d, ret))
FORWARD(int, sd_device_get_sysattr_value, -ENOSYS, (sd_device *d, const char *sysattr, const char **ret), (d, sysattr, ret))
FORWARD(int, sd_device_get_property_value, -ENOSYS, (sd_device *d, const char *key, const char **ret), (d, key, ret))
FORWARD(int, sd_device_new_from_ifname, -ENOSYS, (sd_device **ret, const char *ifname), (ret, ifname))
FORWARD(sd_device *, sd_device_unref, NULL, (sd_device *d), (d))
FORWARD(int, sd_device_trigger, -ENOSYS, (sd_device *d, sd_device_action_t action), (d, action))

// sd-journal (Journal.swift, through ec2netgen_journal_sendv: sd_journal_sendv is a macro
// for this function, adding the call site)
FORWARD(int, sd_journal_sendv_with_location, -ENOSYS,
        (const char *file, const char *line, const char *func, const struct iovec *iov, int n),
        (file, line, func, iov, n))
