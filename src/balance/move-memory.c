/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mover's memory half: make the domain's memory live on the target
 * nodes, measured with /proc/PID/numa_maps before and after (the pages
 * this QEMU alone maps: procparse_numa_maps_private).
 *
 * Which way, and why:
 * - <numatune mode='restrictive'>: virDomainSetNumaParameters, the one
 *   live nodeset change libvirt allows; libvirt writes the cgroups itself
 *   and its live XML stays true.
 * - otherwise, in three steps: widen cpuset.mems of the emulator, vcpuN and
 *   iothreadN cgroups to allow the target (widening migrates nothing: the
 *   kernel's do_migrate_pages skips nodes in both the old and the new
 *   set); migrate_pages(2) of the QEMU process with CAP_SYS_NICE lowered,
 *   so the kernel moves only the pages this QEMU alone maps; then narrow
 *   cpuset.mems to the target, with cpuset.memory_migrate off for the
 *   write under cgroup v1, so new memory comes from the target. Why not
 *   let the cpuset migrate (memory_migrate=1, which libvirt sets): the
 *   kernel then migrates with MPOL_MF_MOVE_ALL, the QEMU binary and
 *   libraries every other QEMU is executing included, each page waiting
 *   for TLB shootdowns on their CPUs: 2.4 s, 178 s and 347 s for three
 *   128 MiB VMs in the lab, against 1.3-3.1 s for migrate_pages of their
 *   own pages (tests/lab/README.md). Under cgroup v2 a cpuset.mems write
 *   always migrates, inside write(2): the systemd lab's vmtuned sat in D
 *   state past its 30 s watchdog narrowing one TCG guest's emulator group.
 *   So under v2 nothing is narrowed: the private pages were moved by
 *   migrate_pages(2), and new memory follows the vCPUs (local allocation).
 * - When less than what is remote may move now (max_migrate_mb_per_tick),
 *   numa_move_pages() moves that much of the private mappings page by
 *   page, after only widening the cpusets.
 * The cpuset files are written as plain files through kfile (under the
 * root prefix, dry run and all, like every other kernel write of vmtuned)
 * rather than with libcgroup: the directories are already known from the
 * domain table, libcgroup's cgroup_init() reads the real /proc/mounts
 * whatever the root prefix, cgroup_modify_cgroup() writes every value it
 * holds for the controller, and 2.0.2 crashes in
 * cgroup_attach_task_pid(NULL, ...). One concern at ~600 lines: the three
 * ways above share the before/after measurement and the undo. */
#include "balance/move.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "virt/domain.h"
#include "base/kfile.h"
#include "base/log.h"
#include "base/procparse.h"
#include "move-internal.h"
#include "base/util.h"

/* --- pure: the mappings that hold remote pages ------------------------ */

struct vma {
        uintptr_t start, end;
};

static int vma_cmp(const void *a, const void *b)
{
        const struct vma *x = a, *y = b;

        return x->start < y->start ? -1 : x->start > y->start;
}

/* "55d0c0a00000-55d0c0b00000 rw-p 00000000 00:00 0   [heap]" */
static int parse_maps(const char *buf, struct vma **ret, size_t *ret_n)
{
        _cleanup_free_ struct vma *v = NULL;
        size_t n = 0;

        for (const char *line = buf; *line; ) {
                const char *eol = strchrnul(line, '\n');
                unsigned long long start, end;
                char *p;

                if (eol > line) {
                        errno = 0;
                        start = strtoull(line, &p, 16);
                        if (p == line || *p != '-' || errno)
                                return -EINVAL;
                        end = strtoull(p + 1, &p, 16);
                        if (*p != ' ' || errno || end < start)
                                return -EINVAL;
                        v = xreallocarray(v, n + 1, sizeof(*v));
                        v[n++] = (struct vma){ (uintptr_t) start, (uintptr_t) end };
                }
                line = *eol ? eol + 1 : eol;
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), vma_cmp);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* The pages of a numa_maps line on nodes outside mask. */
static uint64_t pages_outside(const struct numa_maps_line *l, uint64_t mask)
{
        uint64_t remote = 0;

        for (size_t node = 0; node < l->n_nodes; node++)
                if (node >= BALANCE_MAX_NODES || !(mask & BALANCE_NODE_BIT(node)))
                        remote += l->pages[node];
        return remote;
}

int move_remote_ranges(const char *numa_maps, const char *maps, uint64_t mask,
                       struct move_range **ret, size_t *ret_n)
{
        _cleanup_free_ struct vma *vmas = NULL;
        _cleanup_free_ struct move_range *ranges = NULL;
        _cleanup_(procparse_numa_maps_line_done) struct numa_maps_line l = { 0 };
        size_t n_vmas = 0, n = 0;
        int r;

        r = parse_maps(maps, &vmas, &n_vmas);
        if (r < 0)
                return r;
        for (const char *line = numa_maps; *line; ) {
                const char *eol = strchrnul(line, '\n');
                struct move_range range;
                struct vma key, *vma;

                if (eol > line) {
                        r = procparse_numa_maps_line(line, (size_t) (eol - line), &l);
                        if (r < 0)
                                return r;
                        /* Pages other processes map too stay: see procparse_numa_maps_private. */
                        range = (struct move_range){ .start = (uintptr_t) l.start, .page_size = l.page_kib * 1024,
                                                     .remote_pages = l.private ? pages_outside(&l, mask) : 0 };
                        key.start = range.start;
                        vma = range.remote_pages == 0 || n_vmas == 0 ? NULL :
                              bsearch(&key, vmas, n_vmas, sizeof(*vmas), vma_cmp);
                        if (vma) {
                                range.end = vma->end;
                                ranges = xreallocarray(ranges, n + 1, sizeof(*ranges));
                                ranges[n++] = range;
                        }
                }
                line = *eol ? eol + 1 : eol;
        }
        *ret = TAKE_PTR(ranges);
        *ret_n = n;
        return 0;
}

/* --- measuring ------------------------------------------------------------ */

static int read_node_kib(const struct kroot *root, pid_t pid, char **ret_buf, uint64_t **ret_kib, size_t *ret_n)
{
        _cleanup_free_ char *path = xasprintf("proc/%d/numa_maps", (int) pid);
        _cleanup_free_ char *buf = NULL;
        int r;

        r = kfile_read_all(root, path, &buf);
        if (r < 0)
                return r;
        r = procparse_numa_maps(buf, ret_kib, ret_n);
        if (r < 0)
                return r;
        if (ret_buf)
                *ret_buf = TAKE_PTR(buf);
        return 0;
}

static uint64_t nodes_outside(const uint64_t *kib, size_t n, uint64_t mask)
{
        uint64_t from = 0;

        for (size_t id = 0; id < n && id < BALANCE_MAX_NODES; id++)
                if (kib[id] > 0 && !(mask & BALANCE_NODE_BIT(id)))
                        from |= BALANCE_NODE_BIT(id);
        return from;
}

/* --- libvirt: restrictive <numatune> --------------------------------------- */

static int numa_restrictive(virDomainPtr dom, bool *ret, struct move_result *res)
{
        virTypedParameterPtr params = NULL;
        int n = 0, mode = -1, r = 0;

        if (virDomainGetNumaParameters(dom, NULL, &n, 0) < 0)
                goto fail;
        params = xcalloc((size_t) n + 1, sizeof(*params));
        if (virDomainGetNumaParameters(dom, params, &n, 0) < 0)
                goto fail;
        if (virTypedParamsGetInt(params, n, VIR_DOMAIN_NUMA_MODE, &mode) <= 0)
                mode = -1;
        *ret = mode == VIR_DOMAIN_NUMATUNE_MEM_RESTRICTIVE;
        goto out;
fail:
        move_say(res, "cannot read its NUMA parameters: %s", move_libvirt_message());
        r = move_libvirt_error();
out:
        virTypedParamsClear(params, n);
        free(params);
        return r;
}

static int move_by_libvirt(virDomainPtr dom, uint64_t to, struct move_result *res)
{
        _cleanup_free_ char *nodeset = move_nodes_format(to);
        virTypedParameterPtr params = NULL;
        int n = 0, max = 0, r = 0;

        if (virTypedParamsAddString(&params, &n, &max, VIR_DOMAIN_NUMA_NODESET, nodeset) < 0 ||
            virDomainSetNumaParameters(dom, params, n, VIR_DOMAIN_AFFECT_LIVE) < 0) {
                move_say(res, "setting its <numatune> nodeset to %s failed: %s", nodeset, move_libvirt_message());
                r = move_libvirt_error();
        }
        virTypedParamsFree(params, n);
        res->memory_how = MOVE_MEMORY_LIBVIRT;
        return r;
}

/* --- cgroups: cpuset.mems ---------------------------------------------------- */

/* The domain's cpuset directories: parents (the domain's own, and
 * libvirt/ below it with systemd) and one per thread group. */
struct cgroup_dirs {
        char *parents[2];
        size_t n_parents;
        char **dirs;
        size_t n_dirs;
};

static void cgroup_dirs_done(struct cgroup_dirs *cg)
{
        for (size_t i = 0; i < cg->n_parents; i++)
                free(cg->parents[i]);
        for (size_t i = 0; i < cg->n_dirs; i++)
                free(cg->dirs[i]);
        free(cg->dirs);
}

static void add_dir(const struct kroot *root, struct cgroup_dirs *cg, char *dir)
{
        if (!kfile_exists(root, dir)) {
                free(dir);
                return;
        }
        cg->dirs = xreallocarray(cg->dirs, cg->n_dirs + 1, sizeof(char *));
        cg->dirs[cg->n_dirs++] = dir;
}

/* -ENOENT when the domain has no cpuset cgroup known. */
static int find_cgroup_dirs(const struct kroot *root, const struct domain *d, struct cgroup_dirs *ret)
{
        _cleanup_free_ char *nested = NULL, *probe = NULL;
        const char *base = d->cgroup_cpuset, *prefix = NULL;

        if (!base || !kfile_exists(root, base))
                return -ENOENT;
        nested = xasprintf("%s/libvirt", base);
        probe = xasprintf("%s/emulator", nested);
        if (kfile_exists(root, probe))
                prefix = nested;
        free(probe);
        probe = xasprintf("%s/emulator", base);
        if (!prefix && kfile_exists(root, probe))
                prefix = base;
        if (!prefix) {
                /* No per-thread groups: every thread is in the domain's own. */
                add_dir(root, ret, xstrdup(base));
                return 0;
        }
        ret->parents[ret->n_parents++] = xstrdup(base);
        if (prefix != base)
                ret->parents[ret->n_parents++] = xstrdup(prefix);
        add_dir(root, ret, xasprintf("%s/emulator", prefix));
        for (size_t i = 0; i < d->n_vcpu_threads; i++)
                add_dir(root, ret, xasprintf("%s/vcpu%d", prefix, d->vcpu_threads[i].index));
        for (size_t i = 0; i < d->n_iothreads; i++)
                add_dir(root, ret, xasprintf("%s/iothread%d", prefix, d->iothreads[i].index));
        return 0;
}

static int read_mems(const struct kroot *root, const char *dir, struct bitmap *ret)
{
        _cleanup_free_ char *path = xasprintf("%s/cpuset.mems", dir);

        return kfile_read_list(root, path, ret);
}

/* A directory's cpuset.mems, and whether it is empty: under cgroup v2 an
 * empty cpuset.mems (systemd's scopes, libvirt's vcpuN) inherits the
 * parent's nodes, so what it allows is cpuset.mems.effective. Taking
 * "empty" for "no node" made the first widening write the target alone
 * into the VM's scope, which migrated the whole VM inside write(2). */
static int read_mems_allowed(const struct kroot *root, const char *dir, struct bitmap *ret, bool *ret_inherited)
{
        _cleanup_free_ char *effective = xasprintf("%s/cpuset.mems.effective", dir);
        int r;

        *ret_inherited = false;
        r = read_mems(root, dir, ret);
        if (r < 0 || bitmap_count(ret) > 0 || !kfile_exists(root, effective))
                return r;
        *ret_inherited = true;
        bitmap_done(ret);
        return kfile_read_list(root, effective, ret);
}

static int write_mems(const struct kroot *root, const char *dir, const struct bitmap *mems,
                      struct move_result *res)
{
        _cleanup_free_ char *path = xasprintf("%s/cpuset.mems", dir);
        _cleanup_free_ char *list = bitmap_format_list(mems);
        _cleanup_(bitmap_done) struct bitmap now = { 0 };
        int r;

        r = kfile_write(root, path, list);
        if (r >= 0)
                r = read_mems(root, dir, &now);
        if (r >= 0 && !bitmap_equal(&now, mems))
                r = -EIO;
        if (r < 0)
                move_say(res, "writing \"%s\" to %s: %s", list, path, strerror(-r));
        return r;
}

/* cgroup v1's cpuset has cpuset.memory_migrate; v2's has none, and
 * always migrates on a cpuset.mems write. */
static bool has_memory_migrate_knob(const struct kroot *root, const char *dir)
{
        _cleanup_free_ char *path = xasprintf("%s/cpuset.memory_migrate", dir);

        return kfile_exists(root, path);
}

/* Under cgroup v1, a cpuset.mems write with cpuset.memory_migrate=1
 * migrates everything of the group's tasks, pages other processes map
 * included (see the top of this file): off for the write, then back. v2
 * has no such file (and always migrates). */
static int write_mems_quietly(const struct kroot *root, const char *dir, const struct bitmap *mems,
                              struct move_result *res)
{
        _cleanup_free_ char *path = xasprintf("%s/cpuset.memory_migrate", dir);
        char buf[16];
        int r, q;

        if (kfile_read(root, path, buf, sizeof(buf)) < 0 || streq(buf, "0"))
                return write_mems(root, dir, mems, res);
        r = kfile_write(root, path, "0");
        if (r < 0) {
                move_say(res, "writing \"0\" to %s: %s", path, strerror(-r));
                return r;
        }
        r = write_mems(root, dir, mems, res);
        q = kfile_write(root, path, buf);
        if (q < 0) {
                move_say(res, "writing \"%s\" back to %s: %s", buf, path, strerror(-q));
                return r < 0 ? r : q;
        }
        return r;
}

/* Parents first: a child may only use nodes its parent allows. exact: set
 * every thread group to exactly the target; else only add the target to
 * what each allows. Neither migrates under v1 (write_mems_quietly). */
static int cgroup_set_mems(const struct kroot *root, const struct cgroup_dirs *cg, uint64_t to, bool exact,
                           struct move_result *res)
{
        _cleanup_(bitmap_done) struct bitmap target = { 0 };
        unsigned said_v2 = 0;
        int r;

        move_mask_bitmap(to, &target);
        for (size_t i = 0; i < cg->n_parents + cg->n_dirs; i++) {
                bool parent = i < cg->n_parents;
                const char *dir = parent ? cg->parents[i] : cg->dirs[i - cg->n_parents];
                _cleanup_(bitmap_done) struct bitmap cur = { 0 }, want = { 0 };
                bool inherited;

                r = read_mems_allowed(root, dir, &cur, &inherited);
                if (r < 0) {
                        move_say(res, "reading %s/cpuset.mems: %s", dir, strerror(-r));
                        return r;
                }
                /* A parent that inherits constrains nothing: leave it so. */
                if (parent && inherited)
                        continue;
                /* No narrowing where the write would migrate everything
                 * (cgroup v2; see the top of this file). */
                if (exact && !parent && !has_memory_migrate_knob(root, dir)) {
                        if (!said_v2++)
                                move_say(res, "cgroup v2: cpuset.mems not narrowed (the write would migrate every "
                                         "page of QEMU, shared ones too, inside write(2)); new memory follows "
                                         "the vCPUs");
                        continue;
                }
                bitmap_or(&want, &target);
                if (parent || !exact)
                        bitmap_or(&want, &cur);
                if (bitmap_equal(&want, &cur))
                        continue;
                r = parent ? write_mems(root, dir, &want, res) : write_mems_quietly(root, dir, &want, res);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- libnuma ----------------------------------------------------------------- */

/* migrate_pages(2) by a caller with CAP_SYS_NICE moves pages other
 * processes map too (MPOL_MF_MOVE_ALL), which for a VM is the QEMU binary
 * and libraries all QEMUs run (see the top of this file). This thread
 * lowers CAP_SYS_NICE from its effective set around the call; it stays
 * permitted. *ret_was: whether it was effective. */
static int sys_nice_effective(bool on, bool *ret_was)
{
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
        const uint32_t bit = CAP_TO_MASK(CAP_SYS_NICE);

        if (syscall(SYS_capget, &header, data) < 0)
                return -errno;
        if (ret_was)
                *ret_was = data[CAP_TO_INDEX(CAP_SYS_NICE)].effective & bit;
        if (on)
                data[CAP_TO_INDEX(CAP_SYS_NICE)].effective |= bit & data[CAP_TO_INDEX(CAP_SYS_NICE)].permitted;
        else
                data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~bit;
        if (syscall(SYS_capset, &header, data) < 0)
                return -errno;
        return 0;
}

/* The pages on from that this QEMU alone maps, to the nodes of to. */
static int migrate_private(pid_t pid, uint64_t from, uint64_t to, struct move_result *res)
{
        struct bitmask *f, *t;
        bool sys_nice = false;
        int r, err;

        if (numa_available() < 0) {
                move_say(res, "no NUMA support in this kernel to migrate pages with");
                return -EOPNOTSUPP;
        }
        r = sys_nice_effective(false, &sys_nice);
        if (r < 0) {
                move_say(res, "cannot lower CAP_SYS_NICE to move only the VM's own pages: %s", strerror(-r));
                return r;
        }
        f = numa_allocate_nodemask();
        t = numa_allocate_nodemask();
        for (unsigned id = 0; id < BALANCE_MAX_NODES; id++) {
                if (from & BALANCE_NODE_BIT(id))
                        numa_bitmask_setbit(f, id);
                if (to & BALANCE_NODE_BIT(id))
                        numa_bitmask_setbit(t, id);
        }
        r = numa_migrate_pages(pid, f, t);
        err = errno;
        numa_bitmask_free(f);
        numa_bitmask_free(t);
        if (sys_nice) {
                int q = sys_nice_effective(true, NULL);

                if (q < 0)
                        (void) log_event_errno(LOG_WARNING, q, MSGID_BALANCE_ERROR, NULL,
                                               "cannot raise CAP_SYS_NICE again after migrate_pages: %m");
        }
        res->memory_how = MOVE_MEMORY_MIGRATE_PAGES;
        if (r < 0) {
                move_say(res, "migrate_pages(%d): %s", (int) pid, strerror(err));
                return err == ESRCH ? -ENOENT : -err;
        }
        if (r > 0)
                move_say(res, "%d pages could not be migrated", r);
        return 0;
}

#define MOVE_BATCH 512

/* Move pages outside mask into it, round robin over its nodes, until
 * budget bytes moved. Each batch is asked where its pages are before and
 * after the move, so a transparent huge page counts whole. *ret_all_seen:
 * the pass tried every page of the ranges, the budget did not end it. */
static int move_pages_bounded(pid_t pid, const struct move_range *ranges, size_t n, uint64_t mask,
                              uint64_t budget, uint64_t *ret_moved, bool *ret_all_seen)
{
        void *addr[MOVE_BATCH], *sel[MOVE_BATCH];
        int before[MOVE_BATCH], after[MOVE_BATCH], dest[MOVE_BATCH], status[MOVE_BATCH];
        int targets[BALANCE_MAX_NODES];
        unsigned n_targets = 0, next = 0;
        uint64_t moved = 0;

        for (unsigned id = 0; id < BALANCE_MAX_NODES; id++)
                if (mask & BALANCE_NODE_BIT(id))
                        targets[n_targets++] = (int) id;
        *ret_all_seen = false;
        for (size_t i = 0; i < n; i++) {
                uint64_t ps = ranges[i].page_size;
                uintptr_t a = ranges[i].start;

                while (a < ranges[i].end) {
                        unsigned long k = 0, s = 0;

                        if (moved + ps > budget)
                                goto out;
                        while (k < MOVE_BATCH && a < ranges[i].end) {
                                addr[k++] = (void *) a;
                                a += ps;
                        }
                        if (numa_move_pages(pid, k, addr, NULL, before, 0) < 0)
                                return errno == ESRCH ? -ENOENT : -errno;
                        for (unsigned long j = 0; j < k && moved + (s + 1) * ps <= budget; j++) {
                                if (before[j] < 0 || (before[j] < BALANCE_MAX_NODES &&
                                                      (mask & BALANCE_NODE_BIT(before[j]))))
                                        continue;
                                sel[s] = addr[j];
                                dest[s++] = targets[next++ % n_targets];
                        }
                        if (s == 0)
                                continue;
                        if (numa_move_pages(pid, s, sel, dest, status, MPOL_MF_MOVE) < 0 ||
                            numa_move_pages(pid, k, addr, NULL, after, 0) < 0)
                                return errno == ESRCH ? -ENOENT : -errno;
                        for (unsigned long j = 0; j < k; j++)
                                if (before[j] >= 0 && after[j] >= 0 && after[j] < BALANCE_MAX_NODES &&
                                    (mask & BALANCE_NODE_BIT(after[j])) && before[j] != after[j])
                                        moved += ps;
                }
        }
        *ret_all_seen = true;
out:
        *ret_moved = moved;
        return 0;
}

/* --- the memory step ----------------------------------------------------------- */

/* Widen, migrate the private pages, narrow (see the top of this file). */
static int move_all(const struct kroot *root, const struct domain *d, uint64_t to, uint64_t from,
                    struct move_result *res)
{
        _cleanup_(cgroup_dirs_done) struct cgroup_dirs cg = { 0 };
        bool cpuset = find_cgroup_dirs(root, d, &cg) >= 0 && cg.n_dirs > 0;
        int r;

        if (cpuset) {
                r = cgroup_set_mems(root, &cg, to, false, res);
                if (r < 0)
                        return r;
                res->memory_how = MOVE_MEMORY_CGROUP;
        }
        if (from) {
                r = migrate_private(d->pid, from, to, res);
                if (r < 0)
                        return r;
        }
        return cpuset ? cgroup_set_mems(root, &cg, to, true, res) : 0;
}

/* Page by page, up to budget_kib. move_pages(2) does not see pages the
 * kernel's NUMA balancing has marked for a hinting fault (PROT_NONE until
 * touched: follow_page skips them, their status is -ENOENT), and marked
 * pages of idle guest memory stay marked after vmtuned turns that
 * balancing off: in the lab 63 MiB of each VM never moved so. When the
 * pass runs out of pages it can see before the budget, the rest is only
 * such pages, and migrate_pages(2) (which walks the page tables) takes
 * them. Measured with tests/lab/probe on the lab kernel, a busy process:
 * move_pages 3-32 %, migrate_pages 100 % with NUMA balancing on; both
 * 100 % with it off from the start. */
static int move_some(const struct kroot *root, const struct domain *d, uint64_t to, uint64_t from,
                     const char *numa_maps, uint64_t budget_kib, struct move_result *res)
{
        _cleanup_(cgroup_dirs_done) struct cgroup_dirs cg = { 0 };
        _cleanup_free_ char *path = xasprintf("proc/%d/maps", (int) d->pid), *maps = NULL;
        _cleanup_free_ struct move_range *ranges = NULL;
        size_t n = 0;
        uint64_t moved = 0;
        bool all_seen = false;
        int r;

        if (numa_available() < 0) {
                move_say(res, "no NUMA support in this kernel to move pages with");
                return -EOPNOTSUPP;
        }
        if (find_cgroup_dirs(root, d, &cg) >= 0 && cg.n_dirs > 0) {
                r = cgroup_set_mems(root, &cg, to, false, res);
                if (r < 0)
                        return r;
        }
        r = kfile_read_all(root, path, &maps);
        if (r >= 0)
                r = move_remote_ranges(numa_maps, maps, to, &ranges, &n);
        if (r >= 0)
                r = move_pages_bounded(d->pid, ranges, n, to, budget_kib * 1024, &moved, &all_seen);
        res->memory_how = MOVE_MEMORY_MOVE_PAGES;
        if (r < 0) {
                move_say(res, "moving pages of pid %d: %s", (int) d->pid, strerror(-r));
                return r;
        }
        if (from && all_seen) {
                move_say(res, "move_pages found no more pages it can see after %" PRIu64 " MiB; the rest "
                         "(pages marked by NUMA balancing) by migrate_pages", moved / (1024 * 1024));
                return migrate_private(d->pid, from, to, res);
        }
        return 0;
}

/* The balancer sizes a chunk from memory.numa_stat of the domain's
 * memory cgroup, the mover measures numa_maps of its QEMU: the two differ
 * by a few percent, so "all that is remote" must not turn into a page by
 * page move for the last MiB. Up to an eighth over the budget moves all
 * at once (the budget is a rate, not a hard limit). */
static bool fits_budget(uint64_t remote_kib, uint64_t budget_kib)
{
        return remote_kib - remote_kib / 9 <= budget_kib;
}

int move_memory(virDomainPtr dom, const struct kroot *root, const struct domain *d,
                const struct balance_move *m, struct move_result *res)
{
        _cleanup_free_ char *numa_maps = NULL, *nodes = move_nodes_format(m->to_nodes);
        _cleanup_free_ uint64_t *kib = NULL, *kib_after = NULL;
        uint64_t budget_kib = m->migrate_mib ? m->migrate_mib * 1024 : UINT64_MAX, before, after;
        size_t n = 0, n_after = 0;
        bool restrictive = false;
        int r;

        r = read_node_kib(root, d->pid, &numa_maps, &kib, &n);
        if (r < 0) {
                move_say(res, "cannot read numa_maps of pid %d: %s", (int) d->pid, strerror(-r));
                return r;
        }
        before = move_remote_kib(kib, n, m->to_nodes);
        r = numa_restrictive(dom, &restrictive, res);
        if (r < 0)
                return r;
        if (restrictive) {
                if (before > budget_kib)
                        move_say(res, "restrictive <numatune>: libvirt moves all of it, not %" PRIu64 " MiB",
                                 m->migrate_mib);
                r = move_by_libvirt(dom, m->to_nodes, res);
        } else if (fits_budget(before, budget_kib))
                r = move_all(root, d, m->to_nodes, nodes_outside(kib, n, m->to_nodes), res);
        else
                r = move_some(root, d, m->to_nodes, nodes_outside(kib, n, m->to_nodes), numa_maps, budget_kib,
                              res);
        if (r < 0)
                return r;
        r = read_node_kib(root, d->pid, NULL, &kib_after, &n_after);
        if (r < 0) {
                move_say(res, "cannot read numa_maps of pid %d after the move: %s", (int) d->pid, strerror(-r));
                return r;
        }
        after = move_remote_kib(kib_after, n_after, m->to_nodes);
        res->migrated_mib = before > after ? (before - after) / 1024 : 0;
        res->remote_mib = after / 1024;
        res->memory_moved = true;
        move_say(res, "memory to node(s) %s by %s: %" PRIu64 " MiB moved, %" PRIu64 " MiB still elsewhere",
                 nodes, move_memory_how_to_string(res->memory_how), res->migrated_mib, res->remote_mib);
        return 0;
}
