/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mover's frame and its CPU half: find the domain, pin every thread
 * through libvirt, read each back, record vmtuned's placement, and undo
 * on failure. The memory half is move-memory.c. One concern at ~600 lines:
 * a CPU move and its undo must stay side by side. */
#include "balance/move.h"

#include <inttypes.h>
#include <libvirt/virterror.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "virt/domain.h"
#include "base/kfile.h"
#include "base/log.h"
#include "base/procparse.h"
#include "move-internal.h"
#include "base/util.h"

/* --- pure helpers -------------------------------------------------------- */

int move_nodes_cpus(const struct bitmap *const *node_cpus, size_t n_nodes, uint64_t mask, struct bitmap *ret)
{
        struct bitmap cpus = { 0 };

        if (mask == 0)
                return -EINVAL;
        for (unsigned id = 0; id < BALANCE_MAX_NODES; id++) {
                if (!(mask & BALANCE_NODE_BIT(id)))
                        continue;
                if (id >= n_nodes) {
                        bitmap_done(&cpus);
                        return -EINVAL;
                }
                if (node_cpus[id])
                        bitmap_or(&cpus, node_cpus[id]);
        }
        if (bitmap_count(&cpus) == 0) {
                bitmap_done(&cpus);
                return -ENXIO;
        }
        *ret = cpus;
        return 0;
}

int move_cpumap(const struct bitmap *cpus, unsigned char **ret_map, int *ret_len)
{
        unsigned size = bitmap_size(cpus);
        unsigned char *map;
        int len;

        if (size == 0)
                return -EINVAL;
        len = VIR_CPU_MAPLEN((int) size);
        map = xcalloc((size_t) len, 1);
        for (unsigned cpu = 0; cpu < size; cpu++)
                if (bitmap_test(cpus, cpu))
                        VIR_USE_CPU(map, cpu);
        *ret_map = map;
        *ret_len = len;
        return 0;
}

void move_mask_bitmap(uint64_t mask, struct bitmap *ret)
{
        for (unsigned id = 0; id < BALANCE_MAX_NODES; id++)
                if (mask & BALANCE_NODE_BIT(id))
                        bitmap_set(ret, id);
}

char *move_nodes_format(uint64_t mask)
{
        _cleanup_(bitmap_done) struct bitmap b = { 0 };

        move_mask_bitmap(mask, &b);
        return bitmap_format_list(&b);
}

char *move_placement_xml(const char *cpus, uint64_t nodes)
{
        _cleanup_free_ char *list = move_nodes_format(nodes);

        /* Lists are digits, '-' and ',': nothing to escape. */
        if (!cpus || !*cpus)
                return xasprintf("<placement nodes='%s'/>", list);
        if (nodes == 0)
                return xasprintf("<placement cpus='%s'/>", cpus);
        return xasprintf("<placement cpus='%s' nodes='%s'/>", cpus, list);
}

uint64_t move_remote_kib(const uint64_t *node_kib, size_t n, uint64_t mask)
{
        uint64_t sum = 0;

        for (size_t id = 0; id < n; id++)
                if (id >= BALANCE_MAX_NODES || !(mask & BALANCE_NODE_BIT(id)))
                        sum += node_kib[id];
        return sum;
}

const char *move_memory_how_to_string(enum move_memory_how how)
{
        switch (how) {
        case MOVE_MEMORY_NONE:          return "none";
        case MOVE_MEMORY_LIBVIRT:       return "libvirt numatune";
        case MOVE_MEMORY_CGROUP:        return "cpuset.mems";
        case MOVE_MEMORY_MIGRATE_PAGES: return "migrate_pages";
        case MOVE_MEMORY_MOVE_PAGES:    return "move_pages";
        }
        return "?";
}

void move_say(struct move_result *res, const char *fmt, ...)
{
        size_t len = strlen(res->message), size = sizeof(res->message);
        va_list ap;

        if (len > 0 && len + 3 < size) {
                memcpy(res->message + len, "; ", 3);
                len += 2;
        }
        if (len + 1 >= size)
                return;
        va_start(ap, fmt);
        vsnprintf(res->message + len, size - len, fmt, ap);
        va_end(ap);
}

/* --- libvirt errors ------------------------------------------------------ */

int move_libvirt_error(void)
{
        const virError *e = virGetLastError();
        int code = e ? e->code : VIR_ERR_INTERNAL_ERROR;

        switch (code) {
        case VIR_ERR_NO_DOMAIN:
        case VIR_ERR_OPERATION_INVALID: /* "domain is not running" */
                return -ENOENT;
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_INVALID_CONN:
        case VIR_ERR_RPC:
                return -ENOTCONN;
        case VIR_ERR_INVALID_ARG:
                return -EINVAL;
        case VIR_ERR_NO_SUPPORT:
        case VIR_ERR_OPERATION_UNSUPPORTED:
                return -EOPNOTSUPP;
        }
        if (code == VIR_ERR_SYSTEM_ERROR && e->domain == VIR_FROM_RPC)
                return -ENOTCONN;
        return -EIO;
}

const char *move_libvirt_message(void)
{
        const char *m = virGetLastErrorMessage();

        return m ? m : "unknown libvirt error";
}

/* --- the threads of one move ------------------------------------------- */

enum unit_kind {
        UNIT_VCPU,        /* virDomainPinVcpuFlags */
        UNIT_EMULATOR,    /* virDomainPinEmulator; read back on the main thread */
        UNIT_IOTHREAD,    /* virDomainPinIOThread */
        UNIT_THREAD,      /* another emulator thread: follows the emulator's cgroup */
};

/* One thing pinned, and what it ran on before, to pin it back. */
struct unit {
        enum unit_kind kind;
        int index;                /* vCPU number or iothread id */
        pid_t tid;
        struct bitmap before;     /* its Cpus_allowed_list before the move */
        bool moved;
};

struct mover {
        virDomainPtr dom;
        const struct kroot *root;
        const struct domain *d;
        struct move_result *res;
        struct unit *units;
        size_t n_units;
        char *record_cpus;        /* vmtuned's placement record before the move */
        char *record_nodes;
};

static const char *unit_name(const struct unit *u, char *buf, size_t size)
{
        switch (u->kind) {
        case UNIT_VCPU:     snprintf(buf, size, "vCPU %d", u->index); break;
        case UNIT_EMULATOR: snprintf(buf, size, "the emulator"); break;
        case UNIT_IOTHREAD: snprintf(buf, size, "iothread %d", u->index); break;
        case UNIT_THREAD:   snprintf(buf, size, "emulator thread %d", (int) u->tid); break;
        }
        return buf;
}

static int read_thread_cpus(const struct kroot *root, pid_t pid, pid_t tid, struct bitmap *ret)
{
        _cleanup_free_ char *path = xasprintf("proc/%d/task/%d/status", (int) pid, (int) tid);
        _cleanup_free_ char *status = NULL, *list = NULL;
        int r;

        r = kfile_read_all(root, path, &status);
        if (r < 0)
                return r;
        r = procparse_status_field(status, "Cpus_allowed_list", &list);
        if (r < 0)
                return -EBADMSG;
        return bitmap_parse_list(list, ret);
}

static int set_affinity(pid_t tid, const struct bitmap *cpus)
{
        unsigned n = bitmap_size(cpus);
        size_t size = CPU_ALLOC_SIZE(n);
        cpu_set_t *set = CPU_ALLOC(n);
        int r = 0;

        if (!set)
                abort();
        CPU_ZERO_S(size, set);
        for (unsigned cpu = 0; cpu < n; cpu++)
                if (bitmap_test(cpus, cpu))
                        CPU_SET_S(cpu, size, set);
        if (sched_setaffinity(tid, size, set) < 0)
                r = errno == ESRCH ? -ENOENT : -errno;
        CPU_FREE(set);
        return r;
}

static int pin_unit(struct mover *mv, const struct unit *u, const struct bitmap *cpus)
{
        _cleanup_free_ unsigned char *map = NULL;
        int len, r;

        if (u->kind == UNIT_THREAD)
                return set_affinity(u->tid, cpus);
        r = move_cpumap(cpus, &map, &len);
        if (r < 0)
                return r;
        switch (u->kind) {
        case UNIT_VCPU:
                r = virDomainPinVcpuFlags(mv->dom, (unsigned) u->index, map, len, VIR_DOMAIN_AFFECT_LIVE);
                break;
        case UNIT_EMULATOR:
                r = virDomainPinEmulator(mv->dom, map, len, VIR_DOMAIN_AFFECT_LIVE);
                break;
        case UNIT_IOTHREAD:
                r = virDomainPinIOThread(mv->dom, (unsigned) u->index, map, len, VIR_DOMAIN_AFFECT_LIVE);
                break;
        case UNIT_THREAD:
                break;
        }
        return r < 0 ? move_libvirt_error() : 0;
}

static void add_unit(struct mover *mv, enum unit_kind kind, int index, pid_t tid)
{
        mv->units = xreallocarray(mv->units, mv->n_units + 1, sizeof(struct unit));
        mv->units[mv->n_units++] = (struct unit){ .kind = kind, .index = index, .tid = tid };
}

/* Every thread of the domain, in the order they are pinned, with the CPUs
 * it may use now. A vCPU, iothread or the main thread that is gone means
 * the domain is stopping; other emulator threads come and go. */
static int collect_units(struct mover *mv)
{
        const struct domain *d = mv->d;
        char name[64];
        size_t i = 0;
        int r;

        for (size_t k = 0; k < d->n_vcpu_threads; k++) {
                if (d->vcpu_threads[k].index < 0) {
                        move_say(mv->res, "single-threaded TCG: libvirt cannot pin its one thread per vCPU");
                        return -EOPNOTSUPP;
                }
                add_unit(mv, UNIT_VCPU, d->vcpu_threads[k].index, d->vcpu_threads[k].tid);
        }
        add_unit(mv, UNIT_EMULATOR, -1, d->pid);
        for (size_t k = 0; k < d->n_iothreads; k++)
                add_unit(mv, UNIT_IOTHREAD, d->iothreads[k].index, d->iothreads[k].tid);
        for (size_t k = 0; k < d->n_emulator_tids; k++)
                if (d->emulator_tids[k] != d->pid)
                        add_unit(mv, UNIT_THREAD, -1, d->emulator_tids[k]);

        while (i < mv->n_units) {
                struct unit *u = &mv->units[i];

                r = read_thread_cpus(mv->root, d->pid, u->tid, &u->before);
                if (r == -ENOENT && u->kind == UNIT_THREAD) {
                        mv->units[i] = mv->units[--mv->n_units];
                        continue;
                }
                if (r < 0) {
                        move_say(mv->res, "cannot read the CPUs of %s (thread %d): %s",
                                 unit_name(u, name, sizeof(name)), (int) u->tid, strerror(-r));
                        return r;
                }
                i++;
        }
        return 0;
}

/* Does the thread run where it should? Pins an emulator thread the
 * emulator's cgroup did not carry (a host without a cpuset cgroup:
 * libvirt sets only the main thread's affinity then). */
static int verify_unit(struct mover *mv, struct unit *u, const struct bitmap *target)
{
        _cleanup_(bitmap_done) struct bitmap now = { 0 };
        _cleanup_free_ char *have = NULL, *want = NULL;
        char name[64];
        int r;

        r = read_thread_cpus(mv->root, mv->d->pid, u->tid, &now);
        if (r == -ENOENT && u->kind == UNIT_THREAD)
                return 0;
        if (r >= 0 && !bitmap_equal(&now, target) && u->kind == UNIT_THREAD && !u->moved) {
                r = set_affinity(u->tid, target);
                if (r == -ENOENT)
                        return 0;
                u->moved = r >= 0;
                bitmap_done(&now);
                if (r >= 0)
                        r = read_thread_cpus(mv->root, mv->d->pid, u->tid, &now);
        }
        if (r < 0) {
                move_say(mv->res, "cannot read back %s (thread %d): %s", unit_name(u, name, sizeof(name)),
                         (int) u->tid, strerror(-r));
                return r;
        }
        if (bitmap_equal(&now, target))
                return 0;
        have = bitmap_format_list(&now);
        want = bitmap_format_list(target);
        move_say(mv->res, "%s (thread %d) may run on CPUs %s after pinning to %s",
                 unit_name(u, name, sizeof(name)), (int) u->tid, have, want);
        return -EIO;
}

static int move_cpus(struct mover *mv, const struct bitmap *target)
{
        char name[64];
        int r;

        for (size_t i = 0; i < mv->n_units; i++) {
                struct unit *u = &mv->units[i];

                if (u->kind == UNIT_THREAD)
                        continue;
                r = pin_unit(mv, u, target);
                if (r < 0) {
                        move_say(mv->res, "pinning %s failed: %s", unit_name(u, name, sizeof(name)),
                                 move_libvirt_message());
                        return r;
                }
                u->moved = true;
        }
        for (size_t i = 0; i < mv->n_units; i++) {
                r = verify_unit(mv, &mv->units[i], target);
                if (r < 0)
                        return r;
        }
        mv->res->cpus_moved = true;
        return 0;
}

/* --- vmtuned's placement record ---------------------------------------- */

static int read_record(struct mover *mv)
{
        _cleanup_free_ char *xml = NULL;

        xml = virDomainGetMetadata(mv->dom, VIR_DOMAIN_METADATA_ELEMENT, VMTUNED_PLACEMENT_XMLNS,
                                   VIR_DOMAIN_AFFECT_LIVE);
        if (!xml) {
                const virError *e = virGetLastError();

                if (e && e->code == VIR_ERR_NO_DOMAIN_METADATA)
                        return 0;
                move_say(mv->res, "cannot read vmtuned's placement record: %s", move_libvirt_message());
                return move_libvirt_error();
        }
        /* A record that does not parse is replaced by the next one. */
        (void) domain_placement_parse(xml, &mv->record_cpus, &mv->record_nodes);
        return 0;
}

static int write_record(struct mover *mv, const char *cpus, uint64_t nodes)
{
        _cleanup_free_ char *xml = move_placement_xml(cpus, nodes);

        if (virDomainSetMetadata(mv->dom, VIR_DOMAIN_METADATA_ELEMENT, xml, VMTUNED_PLACEMENT_PREFIX,
                                 VMTUNED_PLACEMENT_XMLNS, VIR_DOMAIN_AFFECT_LIVE) < 0) {
                move_say(mv->res, "cannot record the placement in <metadata>: %s", move_libvirt_message());
                return move_libvirt_error();
        }
        return 0;
}

static uint64_t nodes_mask(const char *list)
{
        _cleanup_(bitmap_done) struct bitmap b = { 0 };
        uint64_t mask = 0;

        if (!list || bitmap_parse_list(list, &b) < 0)
                return 0;
        for (unsigned id = 0; id < bitmap_size(&b) && id < BALANCE_MAX_NODES; id++)
                if (bitmap_test(&b, id))
                        mask |= BALANCE_NODE_BIT(id);
        return mask;
}

/* Pin back what was moved, last first. libvirt's pins back are pins too
 * (<vcpupin> in the live XML): record them as vmtuned's when they all
 * went back to one set of CPUs, or the domain would look pinned by the
 * administrator from now on. */
static void undo(struct mover *mv)
{
        const struct bitmap *common = NULL;
        size_t back = 0, failed = 0;
        bool uniform = true, any = false;
        char name[64];

        for (size_t i = 0; i < mv->n_units; i++)
                any |= mv->units[i].moved;
        if (!any)
                return; /* refused at the first pin: nothing to undo */
        for (size_t i = mv->n_units; i-- > 0;) {
                struct unit *u = &mv->units[i];
                int r;

                if (!u->moved)
                        continue;
                if (u->kind != UNIT_THREAD) {
                        if (common && !bitmap_equal(common, &u->before))
                                uniform = false; /* no one record fits */
                        common = &u->before;
                }
                r = pin_unit(mv, u, &u->before);
                if (r < 0) {
                        _cleanup_free_ char *list = bitmap_format_list(&u->before);

                        move_say(mv->res, "could not pin %s back to CPUs %s: %s", unit_name(u, name, sizeof(name)),
                                 list, u->kind == UNIT_THREAD ? strerror(-r) : move_libvirt_message());
                        failed++;
                        continue;
                }
                u->moved = false;
                back++;
        }
        mv->res->undone = true;
        mv->res->cpus_moved = false;
        move_say(mv->res, "undone: %zu pinned back to where they were", back);
        if (common && uniform && failed == 0) {
                _cleanup_free_ char *list = bitmap_format_list(common);

                (void) write_record(mv, list, nodes_mask(mv->record_nodes));
        }
}

/* --- the move ------------------------------------------------------------ */

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int check_move(const struct domain *d, const struct balance_move *m, const struct bitmap *target_cpus,
                      bool cpus, struct move_result *res)
{
        if (!d->movable) {
                move_say(res, "%s is not movable: %s", d->name, d->reason ? d->reason : "?");
                return -EPERM;
        }
        if (d->pid <= 0 || d->n_vcpu_threads == 0) {
                move_say(res, "%s has no QEMU process or vCPU threads", d->name);
                return -EINVAL;
        }
        if (m->to_nodes == 0 || (cpus && (!target_cpus || bitmap_count(target_cpus) == 0))) {
                move_say(res, "nowhere to move %s: no target nodes or CPUs", d->name);
                return -EINVAL;
        }
        return 0;
}

static int lookup(virConnectPtr conn, const struct domain *d, struct mover *mv)
{
        unsigned id;

        if (!conn) {
                move_say(mv->res, "not connected to libvirt");
                return -ENOTCONN;
        }
        mv->dom = virDomainLookupByUUIDString(conn, d->uuid);
        if (!mv->dom) {
                move_say(mv->res, "%s: %s", d->name, move_libvirt_message());
                return move_libvirt_error();
        }
        id = virDomainGetID(mv->dom);
        if (id == (unsigned) -1) {
                move_say(mv->res, "%s is no longer running", d->name);
                return -ENOENT;
        }
        if (id != (unsigned) d->id) {
                move_say(mv->res, "%s was restarted (ID %d, now %u)", d->name, d->id, id);
                return -ESTALE;
        }
        return 0;
}

static void dry_run(const struct domain *d, const struct balance_move *m, const struct bitmap *target,
                    bool cpus, bool memory, struct move_result *res)
{
        _cleanup_free_ char *nodes = move_nodes_format(m->to_nodes);

        if (cpus) {
                _cleanup_free_ char *list = bitmap_format_list(target);

                move_say(res, "dry run: would pin %zu vCPUs, the emulator and %zu iothreads of %s to CPUs %s",
                         d->n_vcpu_threads, d->n_iothreads, d->name, list);
        }
        if (memory && m->migrate_mib)
                move_say(res, "dry run: would move up to %" PRIu64 " MiB of its memory to node(s) %s",
                         m->migrate_mib, nodes);
        else if (memory)
                move_say(res, "dry run: would move all of its memory to node(s) %s", nodes);
}

static void mover_done(struct mover *mv)
{
        for (size_t i = 0; i < mv->n_units; i++)
                bitmap_done(&mv->units[i].before);
        free(mv->units);
        free(mv->record_cpus);
        free(mv->record_nodes);
        if (mv->dom)
                virDomainFree(mv->dom);
}

static int run_move(struct mover *mv, virConnectPtr conn, const struct balance_move *m,
                    const struct bitmap *target, bool cpus, bool memory)
{
        _cleanup_free_ char *target_list = cpus ? bitmap_format_list(target) : NULL;
        int r;

        r = lookup(conn, mv->d, mv);
        if (r < 0)
                return r;
        r = read_record(mv);
        if (r < 0)
                return r;
        if (cpus) {
                r = collect_units(mv);
                if (r < 0)
                        return r;
                r = move_cpus(mv, target);
                if (r >= 0)
                        r = write_record(mv, target_list, nodes_mask(mv->record_nodes));
                if (r < 0) {
                        undo(mv);
                        return r;
                }
                move_say(mv->res, "%zu vCPUs, the emulator and %zu iothreads pinned to CPUs %s",
                         mv->d->n_vcpu_threads, mv->d->n_iothreads, target_list);
        }
        if (!memory)
                return 0;
        /* A failure here leaves the CPUs moved: every thread on the new
         * nodes with memory partly behind is a whole state, which the
         * balancer's memory-locality rule finishes later. */
        r = move_memory(mv->dom, mv->root, mv->d, m, mv->res);
        if (r < 0)
                return r;
        return write_record(mv, cpus ? target_list : mv->record_cpus, m->to_nodes);
}

int move_domain(virConnectPtr conn, const struct kroot *root, const struct domain *d,
                const struct balance_move *m, const struct bitmap *target_cpus, struct move_result *ret)
{
        struct move_result res = { 0 };
        struct mover mv = { .root = root, .d = d, .res = &res };
        bool cpus = m->kind != BALANCE_MOVE_MEMORY;
        bool memory = m->kind == BALANCE_MOVE_MEMORY || m->migrate_mib > 0;
        uint64_t t0 = now_usec();
        int r;

        r = check_move(d, m, target_cpus, cpus, &res);
        if (r >= 0 && root->dry_run)
                dry_run(d, m, target_cpus, cpus, memory, &res);
        else if (r >= 0)
                r = run_move(&mv, conn, m, target_cpus, cpus, memory);
        mover_done(&mv);
        res.elapsed_usec = now_usec() - t0;
        log_debug("move %s (%s): %s, %" PRIu64 " us: %s", d->name, balance_move_kind_to_string(m->kind),
                  r < 0 ? strerror(-r) : "done", res.elapsed_usec, res.message);
        *ret = res;
        return r;
}
