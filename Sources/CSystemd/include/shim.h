// libsystemd for Swift: sd-bus, sd-device, sd-journal. Variadic C functions cannot be
// called from Swift, so the few we need are wrapped in non-variadic inline helpers here.
// The functions are libsystemd's own, opened on first use (libsystemd.c): nothing links
// libsystemd, so a run that never needs it never maps it.
#ifndef EC2NETGEN_CSYSTEMD_SHIM_H
#define EC2NETGEN_CSYSTEMD_SHIM_H

#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>

// sd_bus_message_append(m, "i", value) for one int32.
static inline int ec2netgen_bus_append_int32(sd_bus_message *m, int32_t value) {
    return sd_bus_message_append_basic(m, 'i', &value);
}

// sd_journal_sendv is a macro adding the call site; Swift cannot call macros.
static inline int ec2netgen_journal_sendv(const struct iovec *iov, int n) {
    return sd_journal_sendv(iov, n);
}

#endif
