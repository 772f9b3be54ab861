/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmtuned's libvirt side: one connection driven by the daemon's sd-event
 * loop, reconnected with backoff whenever libvirtd is away, and the table
 * of running domains that lifecycle events keep current.
 *
 * Everything runs on the loop's thread: libvirt's event callbacks, the
 * close callback and the reconnect timer. Nothing here blocks the loop
 * except libvirt's own calls (virConnectOpen and the RPCs that read a
 * domain), which a running libvirtd answers in milliseconds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "virt/domain.h"

struct kroot;
struct virt;

#define VIRT_DEFAULT_URI "qemu:///system"

/* Reconnect backoff: 1 s after a failed attempt, doubling up to 30 s. */
#define VIRT_BACKOFF_MIN_USEC (1 * UINT64_C(1000000))
#define VIRT_BACKOFF_MAX_USEC (30 * UINT64_C(1000000))

struct virt_options {
        const char *uri;            /* NULL: VIRT_DEFAULT_URI */
        char *const *exclude;       /* domain name globs never moved, NULL-terminated; copied */
        const struct kroot *root;   /* /proc, /sys and /run under it; borrowed, must outlive the virt */
};

/* Start following libvirt on event. Never fails because libvirtd is down:
 * then it logs once and retries from the loop (VIRT_BACKOFF_*). Fails only
 * if the loop cannot take libvirt's event implementation (-EBUSY: libvirt
 * already runs on another sd_event in this process). */
int virt_new(sd_event *event, const struct virt_options *opts, struct virt **ret);

/* Close the connection, unregister every callback, free the table. The
 * handles libvirt gives back are released from the loop (or when the loop
 * is freed), as libvirt requires. NULL is fine. */
void virt_free(struct virt *v);

/* Reload: a new exclude list re-marks every domain at once; a new URI
 * closes the connection and opens the new one. */
int virt_reconfigure(struct virt *v, const struct virt_options *opts);

bool virt_is_connected(const struct virt *v);

/* The live connection, for the mover's calls on a domain of the table;
 * NULL while disconnected. Borrowed: valid until the loop runs again (a
 * close callback or reconnect may replace it). */
virConnectPtr virt_connection(const struct virt *v);

/* The running domains, sorted by name; empty while disconnected. Valid
 * until the loop runs again (events change the table). */
const struct domain *virt_domains(const struct virt *v, size_t *ret_n);
const struct domain *virt_domain_find(const struct virt *v, const char *name);

/* Treat the connection as lost, as libvirt's close callback does: drop
 * the table, close, and reconnect from the loop at once (then with
 * backoff). For tests, which cannot make the test driver hang up. */
void virt_drop_connection(struct virt *v);

/* virt_event.c: libvirt's event implementation on sd-event. libvirt takes
 * one implementation per process and passes it no user pointer, so this
 * module keeps the one loop it drives in a global. attach registers the
 * implementation with libvirt on first use (before any virConnectOpen);
 * -EBUSY if another loop is attached. Each attach pairs with a detach. */
int virt_event_attach(sd_event *event);
void virt_event_detach(sd_event *event);
/* Handles and timeouts libvirt holds right now (for tests: none left). */
size_t virt_event_n_watches(void);
