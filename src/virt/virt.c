/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libvirt connection and the domain table: connect, follow lifecycle
 * events, notice when libvirtd goes away and come back when it returns. */
#include "virt/virt.h"

#include <libvirt/virterror.h>

#include "base/log.h"
#include "base/util.h"

struct virt {
        sd_event *event;
        const struct kroot *root;
        char *uri;
        char **exclude;

        virConnectPtr conn;
        int lifecycle_cb;             /* callback ids, -1: not registered */
        int tunable_cb;
        bool connected;               /* false from the close callback on, until reconnected */
        bool down_logged;             /* "cannot connect" or "lost" said since the last connect */
        sd_event_source *retry;
        uint64_t backoff_usec;        /* wait after the next failed attempt */

        struct domain *domains;       /* sorted by name */
        size_t n_domains;
};

#define URI_FIELD(v) LOG_FIELDS({ "VMTUNED_LIBVIRT_URI", (v)->uri })

static void connect_or_retry(struct virt *v);
static void on_close(virConnectPtr conn, int reason, void *opaque);

/* --- small helpers ------------------------------------------------------- */

static char **strv_copy(char *const *l)
{
        size_t n = 0;
        char **r;

        while (l && l[n])
                n++;
        r = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                r[i] = xstrdup(l[i]);
        return r;
}

static void strv_free(char **l)
{
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
}

static const char *libvirt_message(void)
{
        const char *m = virGetLastErrorMessage();

        return m ? m : "unknown error";
}

/* libvirt prints every error to stderr unless told otherwise; we read
 * them with virGetLastError and log them ourselves. */
static void silence_libvirt(void *userdata, virErrorPtr error)
{
}

/* --- the table ------------------------------------------------------------ */

/* Binary search by name; *ret_index is the match or the insertion point. */
static bool table_find(const struct virt *v, const char *name, size_t *ret_index)
{
        size_t lo = 0, hi = v->n_domains;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(v->domains[mid].name, name);

                if (c == 0) {
                        *ret_index = mid;
                        return true;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_index = lo;
        return false;
}

/* Insert or replace; takes what d owns. */
static void table_put(struct virt *v, struct domain *d)
{
        size_t i;

        if (table_find(v, d->name, &i))
                domain_done(&v->domains[i]);
        else {
                v->domains = xreallocarray(v->domains, v->n_domains + 1, sizeof(struct domain));
                memmove(v->domains + i + 1, v->domains + i, (v->n_domains - i) * sizeof(struct domain));
                v->n_domains++;
        }
        v->domains[i] = *d;
        *d = (struct domain){ 0 };
}

static bool table_remove(struct virt *v, const char *name)
{
        size_t i;

        if (!table_find(v, name, &i))
                return false;
        domain_done(&v->domains[i]);
        memmove(v->domains + i, v->domains + i + 1, (v->n_domains - i - 1) * sizeof(struct domain));
        v->n_domains--;
        return true;
}

static void table_clear(struct virt *v)
{
        for (size_t i = 0; i < v->n_domains; i++)
                domain_done(&v->domains[i]);
        free(v->domains);
        v->domains = NULL;
        v->n_domains = 0;
}

/* (Re)build the entry of dom; drop it if dom is gone or unreadable. */
static void table_update(struct virt *v, virDomainPtr dom)
{
        struct domain d;
        int r;

        r = domain_build(dom, v->root, v->exclude, &d);
        if (r >= 0) {
                table_put(v, &d);
                return;
        }
        if (r == -ENOTCONN)
                return; /* the close callback empties the table */
        if (r == -ENOENT)
                log_debug("domain %s went away while being read; dropped", virDomainGetName(dom));
        table_remove(v, virDomainGetName(dom));
}

static int table_load(struct virt *v)
{
        virDomainPtr *doms = NULL;
        int n;

        n = virConnectListAllDomains(v->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (n < 0)
                return -EIO;
        for (int i = 0; i < n; i++) {
                table_update(v, doms[i]);
                virDomainFree(doms[i]);
        }
        free(doms);
        return 0;
}

/* --- events --------------------------------------------------------------- */

static const char *const event_names[] = {
        [VIR_DOMAIN_EVENT_DEFINED] = "defined",     [VIR_DOMAIN_EVENT_UNDEFINED] = "undefined",
        [VIR_DOMAIN_EVENT_STARTED] = "started",     [VIR_DOMAIN_EVENT_SUSPENDED] = "suspended",
        [VIR_DOMAIN_EVENT_RESUMED] = "resumed",     [VIR_DOMAIN_EVENT_STOPPED] = "stopped",
        [VIR_DOMAIN_EVENT_SHUTDOWN] = "shutdown",   [VIR_DOMAIN_EVENT_PMSUSPENDED] = "pmsuspended",
        [VIR_DOMAIN_EVENT_CRASHED] = "crashed",
};

/* Details in libvirt's order for each event (libvirt-domain.h). */
static const char *const event_details[][9] = {
        [VIR_DOMAIN_EVENT_DEFINED] = { "added", "updated", "renamed", "from snapshot" },
        [VIR_DOMAIN_EVENT_UNDEFINED] = { "removed", "renamed" },
        [VIR_DOMAIN_EVENT_STARTED] = { "booted", "migrated", "restored", "from snapshot", "wakeup" },
        [VIR_DOMAIN_EVENT_SUSPENDED] = { "paused", "migrated", "I/O error", "watchdog", "restored",
                                         "from snapshot", "API error", "postcopy", "postcopy failed" },
        [VIR_DOMAIN_EVENT_RESUMED] = { "unpaused", "migrated", "from snapshot", "postcopy", "postcopy failed" },
        [VIR_DOMAIN_EVENT_STOPPED] = { "shutdown", "destroyed", "crashed", "migrated", "saved", "failed",
                                       "from snapshot" },
        [VIR_DOMAIN_EVENT_SHUTDOWN] = { "finished", "guest", "host" },
        [VIR_DOMAIN_EVENT_PMSUSPENDED] = { "memory", "disk" },
        [VIR_DOMAIN_EVENT_CRASHED] = { "panicked", "crashloaded" },
};

static const char *event_detail(int event, int detail)
{
        if (event < 0 || (size_t) event >= ARRAY_SIZE(event_details) || detail < 0 ||
            (size_t) detail >= ARRAY_SIZE(event_details[0]) || !event_details[event][detail])
                return "?";
        return event_details[event][detail];
}

/* Apply one lifecycle event to the table; says what it did, for the log. */
static const char *lifecycle_apply(struct virt *v, virDomainPtr dom, int event)
{
        const char *name = virDomainGetName(dom);
        size_t i;

        switch (event) {
        case VIR_DOMAIN_EVENT_STARTED:
        case VIR_DOMAIN_EVENT_RESUMED:
                /* Threads and placement may differ after a restore or an
                 * incoming migration: read it all again. */
                table_update(v, dom);
                return table_find(v, name, &i) ? "entry rebuilt" : "not in the table";
        case VIR_DOMAIN_EVENT_SUSPENDED:
        case VIR_DOMAIN_EVENT_PMSUSPENDED:
                if (!table_find(v, name, &i)) {
                        table_update(v, dom);
                        return table_find(v, name, &i) ? "entry built, paused" : "not in the table";
                }
                v->domains[i].paused = true;
                return "marked paused";
        case VIR_DOMAIN_EVENT_STOPPED:
        case VIR_DOMAIN_EVENT_CRASHED:
                /* Stopped covers migrated away, saved and destroyed too. */
                return table_remove(v, name) ? "removed from the table" : "was not in the table";
        default:
                /* Defined, undefined, shutdown requested: the running
                 * domain is unchanged until it stops. */
                return "table unchanged";
        }
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
        struct virt *v = opaque;
        const char *name = virDomainGetName(dom);
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        const char *what, *done;

        /* Events queued before the connection died: the table is gone
         * and the reconnect reads everything again. */
        if (!v->connected)
                return 0;
        if (virDomainGetUUIDString(dom, uuid) < 0)
                uuid[0] = '\0';
        what = event >= 0 && (size_t) event < ARRAY_SIZE(event_names) && event_names[event] ? event_names[event]
                                                                                              : "changed";
        done = lifecycle_apply(v, dom, event);
        log_event(LOG_INFO, MSGID_DOMAIN_EVENT,
                  LOG_FIELDS({ "VMTUNED_DOMAIN", name }, { "VMTUNED_UUID", uuid }, { "VMTUNED_EVENT", what }),
                  "domain %s %s (%s): %s", name, what, event_detail(event, detail), done);
        return 0;
}

/* <cputune>, <numatune> or pinning changed: the flags and the CPUs the
 * vCPUs may use are read again. */
static void on_tunable(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params, int nparams,
                       void *opaque)
{
        struct virt *v = opaque;
        const char *name = virDomainGetName(dom);
        char uuid[VIR_UUID_STRING_BUFLEN] = "";
        const char *first = nparams > 0 ? params[0].field : "nothing";
        size_t i;

        if (!v->connected)
                return;
        if (virDomainGetUUIDString(dom, uuid) < 0)
                uuid[0] = '\0';
        table_update(v, dom);
        log_event(LOG_INFO, MSGID_DOMAIN_EVENT,
                  LOG_FIELDS({ "VMTUNED_DOMAIN", name }, { "VMTUNED_UUID", uuid }, { "VMTUNED_EVENT", "tunable" }),
                  "domain %s tunables changed (%s%s): %s", name, first, nparams > 1 ? ", ..." : "",
                  !table_find(v, name, &i) ? "not in the table"
                  : v->domains[i].movable  ? "entry rebuilt, movable"
                                           : "entry rebuilt, not movable");
}

static const char *close_reason(int reason)
{
        switch (reason) {
        case VIR_CONNECT_CLOSE_REASON_ERROR:     return "I/O error";
        case VIR_CONNECT_CLOSE_REASON_EOF:       return "libvirtd hung up";
        case VIR_CONNECT_CLOSE_REASON_KEEPALIVE: return "keepalive timeout";
        case VIR_CONNECT_CLOSE_REASON_CLIENT:    return "closed by us";
        default:                                 return "unknown reason";
        }
}

/* --- connection ----------------------------------------------------------- */

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        connect_or_retry(userdata);
        return 0;
}

static void schedule_retry(struct virt *v, uint64_t delay_usec)
{
        int r;

        if (v->retry)
                r = sd_event_source_set_time_relative(v->retry, delay_usec) < 0 ? -1
                  : sd_event_source_set_enabled(v->retry, SD_EVENT_ONESHOT);
        else
                r = sd_event_add_time_relative(v->event, &v->retry, CLOCK_MONOTONIC, delay_usec, 0, on_retry, v);
        if (r < 0)
                /* Only out of memory gets here; then a later reload retries. */
                (void) log_event_errno(LOG_ERR, r, MSGID_LIBVIRT_EVENT_LOOP, NULL,
                                       "cannot schedule a reconnect to %s: %m", v->uri);
}

/* Close and forget the connection; the table goes with it. Safe on a
 * connection libvirt already closed (after the close callback). */
static void virt_close(struct virt *v)
{
        int refs;

        table_clear(v);
        v->connected = false;
        if (!v->conn)
                return;
        /* Deregistering on a dead connection fails its RPC after dropping
         * the callback locally; that is all we need, so errors are ignored. */
        if (v->lifecycle_cb >= 0)
                (void) virConnectDomainEventDeregisterAny(v->conn, v->lifecycle_cb);
        if (v->tunable_cb >= 0)
                (void) virConnectDomainEventDeregisterAny(v->conn, v->tunable_cb);
        v->lifecycle_cb = v->tunable_cb = -1;
        (void) virConnectUnregisterCloseCallback(v->conn, on_close);
        refs = virConnectClose(v->conn);
        if (refs > 0)
                log_debug("libvirt connection to %s still has %d references after close", v->uri, refs);
        v->conn = NULL;
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
        struct virt *v = opaque;

        if (!v->connected)
                return;
        log_event(LOG_WARNING, MSGID_LIBVIRT_LOST, URI_FIELD(v),
                  "lost the connection to %s (%s); %zu domains dropped from the table, reconnecting",
                  v->uri, close_reason(reason), v->n_domains);
        v->down_logged = true;
        v->connected = false;
        table_clear(v);
        /* Not virConnectClose here: libvirt is inside its own dispatch.
         * The retry closes the dead connection first, from a clean stack.
         * Try at once: a libvirtd restart is usually over quickly. */
        v->backoff_usec = VIRT_BACKOFF_MIN_USEC;
        schedule_retry(v, 0);
}

/* qemu:///system, qemu+unix:///system, NULL (libvirt's default): a
 * libvirtd on this host, reached over a unix socket. */
static bool uri_is_local(const char *uri)
{
        return !uri || strstr(uri, ":///") || strstr(uri, "+unix:");
}

/* One attempt: open, set up callbacks, load the table. On failure all of
 * it is undone and *ret_error says why. */
static int try_connect(struct virt *v, char **ret_error)
{
        v->conn = virConnectOpen(v->uri);
        if (!v->conn)
                goto fail;
        if (virConnectRegisterCloseCallback(v->conn, on_close, v, NULL) < 0)
                goto fail;
        /* Over a network, ping every 5 s and give up after 3 missed
         * answers: a lost link sends no close, and a hung libvirtd is
         * noticed within 20 s. A local one (a unix socket) that dies
         * closes the socket, which on_close hears at once; keepalive would
         * only add a ping each way every 5 s, a host's only wakeups while
         * idle. Drivers without keepalive (test://) refuse it, which is
         * fine: they cannot go away. */
        if (!uri_is_local(v->uri) && virConnectSetKeepAlive(v->conn, 5, 3) < 0)
                log_debug("no keepalive on %s: %s", v->uri, libvirt_message());
        v->lifecycle_cb = virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                           VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), v, NULL);
        if (v->lifecycle_cb < 0)
                goto fail;
        v->tunable_cb = virConnectDomainEventRegisterAny(v->conn, NULL, VIR_DOMAIN_EVENT_ID_TUNABLE,
                                                         VIR_DOMAIN_EVENT_CALLBACK(on_tunable), v, NULL);
        if (v->tunable_cb < 0)
                goto fail;
        /* Events first, then the list: a domain starting in between is
         * either listed or announced, and an entry built twice is fine. */
        v->connected = true;
        if (table_load(v) < 0)
                goto fail;
        return 0;
fail:
        *ret_error = xstrdup(libvirt_message());
        virt_close(v);
        return -ECONNREFUSED;
}

static void connect_or_retry(struct virt *v)
{
        _cleanup_free_ char *error = NULL;

        virt_close(v);
        if (try_connect(v, &error) >= 0) {
                log_event(LOG_INFO, MSGID_LIBVIRT_CONNECTED, URI_FIELD(v), "connected to %s: %zu running domains",
                          v->uri, v->n_domains);
                v->down_logged = false;
                v->backoff_usec = VIRT_BACKOFF_MIN_USEC;
                return;
        }
        /* Say it once per outage; every retry is debug noise. */
        if (!v->down_logged)
                log_event(LOG_WARNING, MSGID_LIBVIRT_CONNECT_FAILED, URI_FIELD(v),
                          "cannot connect to %s: %s; retrying in the background", v->uri, error);
        else
                log_debug("still cannot connect to %s: %s; next try in %llu s", v->uri, error,
                          (unsigned long long) (v->backoff_usec / 1000000));
        v->down_logged = true;
        schedule_retry(v, v->backoff_usec);
        v->backoff_usec = v->backoff_usec * 2 > VIRT_BACKOFF_MAX_USEC ? VIRT_BACKOFF_MAX_USEC : v->backoff_usec * 2;
}

/* --- public ----------------------------------------------------------------- */

int virt_new(sd_event *event, const struct virt_options *opts, struct virt **ret)
{
        struct virt *v;
        int r;

        if (virInitialize() < 0)
                return -EIO;
        r = virt_event_attach(event);
        if (r < 0)
                return r;
        virSetErrorFunc(NULL, silence_libvirt);

        v = xcalloc(1, sizeof(*v));
        *v = (struct virt){
                .event = sd_event_ref(event),
                .root = opts->root,
                .uri = xstrdup(opts->uri ? opts->uri : VIRT_DEFAULT_URI),
                .exclude = strv_copy(opts->exclude),
                .lifecycle_cb = -1,
                .tunable_cb = -1,
                .backoff_usec = VIRT_BACKOFF_MIN_USEC,
        };
        connect_or_retry(v);
        *ret = v;
        return 0;
}

void virt_free(struct virt *v)
{
        if (!v)
                return;
        v->retry = sd_event_source_disable_unref(v->retry);
        virt_close(v);
        free(v->uri);
        strv_free(v->exclude);
        virt_event_detach(v->event);
        sd_event_unref(v->event);
        free(v);
}

int virt_reconfigure(struct virt *v, const struct virt_options *opts)
{
        const char *uri = opts->uri ? opts->uri : VIRT_DEFAULT_URI;

        strv_free(v->exclude);
        v->exclude = strv_copy(opts->exclude);
        v->root = opts->root;
        for (size_t i = 0; i < v->n_domains; i++)
                domain_update_movable(&v->domains[i], v->exclude);
        if (streq(uri, v->uri))
                return 0;

        log_event(LOG_INFO, MSGID_LIBVIRT_URI_CHANGED, LOG_FIELDS({ "VMTUNED_LIBVIRT_URI", uri }),
                  "libvirt URI changed from %s to %s; reconnecting", v->uri, uri);
        free(v->uri);
        v->uri = xstrdup(uri);
        if (v->retry)
                (void) sd_event_source_set_enabled(v->retry, SD_EVENT_OFF);
        v->down_logged = false;
        v->backoff_usec = VIRT_BACKOFF_MIN_USEC;
        connect_or_retry(v);
        return 0;
}

bool virt_is_connected(const struct virt *v)
{
        return v->connected;
}

virConnectPtr virt_connection(const struct virt *v)
{
        return v->connected ? v->conn : NULL;
}

const struct domain *virt_domains(const struct virt *v, size_t *ret_n)
{
        *ret_n = v->n_domains;
        return v->domains;
}

const struct domain *virt_domain_find(const struct virt *v, const char *name)
{
        size_t i;

        return table_find(v, name, &i) ? &v->domains[i] : NULL;
}

void virt_drop_connection(struct virt *v)
{
        if (v->connected)
                on_close(v->conn, VIR_CONNECT_CLOSE_REASON_CLIENT, v);
}
