/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Building one domain table entry: libvirt facts first (identity, state,
 * XML, metadata), then what the kernel says about its QEMU process.
 * One concern at ~600 lines: every fact an entry holds is read here, in the
 * order the entry needs them; splitting XML from /proc would split one
 * entry's construction (and its error handling) over two files. */
#include "virt/domain.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>

#include "base/kfile.h"
#include "base/log.h"
#include "base/procparse.h"
#include "base/util.h"

/* Reasons, in the order they are listed. Why each one keeps vmtuned away:
 * - pinning and <numatune> nodesets are the administrator's placement, which
 *   a balancer must not second-guess (seed 004, DESIGN "leave alone");
 * - placement='auto' hands placement to numad through libvirt: two balancers
 *   would fight;
 * - huge pages come from per-node pools sized by the administrator, and
 *   moving them needs free huge pages on the target node;
 * - <locked/> memory is asked for by latency-sensitive guests, which page
 *   migration would stall;
 * - host devices (VFIO) pin all guest memory for DMA, so it cannot migrate,
 *   and the device sits on one node anyway. */
static const struct {
        unsigned pin;
        const char *reason;
} pin_reasons[] = {
        { DOMAIN_PIN_OPT_OUT,        "opted out in <metadata>" },
        { DOMAIN_PIN_VCPUPIN,        "static <vcpupin>" },
        { DOMAIN_PIN_EMULATORPIN,    "static <emulatorpin>" },
        { DOMAIN_PIN_IOTHREADPIN,    "static <iothreadpin>" },
        { DOMAIN_PIN_VCPU_CPUSET,    "<vcpu cpuset>" },
        { DOMAIN_PIN_NUMATUNE,       "<numatune> nodeset" },
        { DOMAIN_PIN_PLACEMENT_AUTO, "placement='auto'" },
        { DOMAIN_PIN_HUGEPAGES,      "huge pages" },
        { DOMAIN_PIN_LOCKED,         "locked memory" },
        { DOMAIN_PIN_HOSTDEV,        "<hostdev>" },
};

static const struct {
        unsigned pin;
        const char *xpath;
} pin_xpaths[] = {
        { DOMAIN_PIN_VCPUPIN,        "/domain/cputune/vcpupin" },
        { DOMAIN_PIN_EMULATORPIN,    "/domain/cputune/emulatorpin" },
        { DOMAIN_PIN_IOTHREADPIN,    "/domain/cputune/iothreadpin" },
        /* libvirt ignores cpuset when placement is auto. */
        { DOMAIN_PIN_VCPU_CPUSET,    "/domain/vcpu[@cpuset and not(@placement='auto')]" },
        { DOMAIN_PIN_NUMATUNE,       "/domain/numatune/*[@nodeset and not(@placement='auto')]" },
        { DOMAIN_PIN_PLACEMENT_AUTO, "/domain/vcpu[@placement='auto'] | /domain/numatune/memory[@placement='auto']" },
        { DOMAIN_PIN_HUGEPAGES,      "/domain/memoryBacking/hugepages" },
        { DOMAIN_PIN_LOCKED,         "/domain/memoryBacking/locked" },
        { DOMAIN_PIN_HOSTDEV,        "/domain/devices/hostdev" },
};

/* --- pure: XML, metadata, exclusion, movability ----------------------- */

static xmlDocPtr xml_parse(const char *xml)
{
        /* No network, and no libxml2 messages on stderr: errors are ours to report. */
        return xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* The attribute name of each pin kind that vmtuned's own moves also
 * write, and which list of its placement record it must then equal. */
static const struct {
        unsigned pin;
        const char *attr;
        bool nodes;          /* compare with the record's nodes, not cpus */
} own_pins[] = {
        { DOMAIN_PIN_VCPUPIN,     "cpuset",  false },
        { DOMAIN_PIN_EMULATORPIN, "cpuset",  false },
        { DOMAIN_PIN_IOTHREADPIN, "cpuset",  false },
        { DOMAIN_PIN_NUMATUNE,    "nodeset", true },
};

#define PLACEMENT_XPATH "/domain/metadata/*[local-name()='placement' and namespace-uri()='" \
        VMTUNED_PLACEMENT_XMLNS "']"

/* vmtuned's placement record, parsed; an absent list is has_* false. */
struct placement {
        bool has_cpus, has_nodes;
        struct bitmap cpus, nodes;
};

static void placement_done(struct placement *p)
{
        bitmap_done(&p->cpus);
        bitmap_done(&p->nodes);
}

/* A list attribute of node into *ret; false if absent or not a list. */
static bool attr_list(xmlNodePtr node, const char *name, struct bitmap *ret)
{
        xmlChar *value = xmlGetProp(node, BAD_CAST name);
        bool ok = value && bitmap_parse_list((const char *) value, ret) == 0;

        xmlFree(value);
        return ok;
}

static void placement_read(xmlNodePtr node, struct placement *ret)
{
        ret->has_cpus = attr_list(node, "cpus", &ret->cpus) && bitmap_count(&ret->cpus) > 0;
        ret->has_nodes = attr_list(node, "nodes", &ret->nodes) && bitmap_count(&ret->nodes) > 0;
}

/* Did vmtuned write every one of these pin elements? Only <memory>
 * (not <memnode>) of <numatune> is something vmtuned changes. */
static bool pins_are_own(xmlNodeSetPtr set, unsigned pin, const struct placement *pl)
{
        for (size_t k = 0; k < ARRAY_SIZE(own_pins); k++) {
                const struct bitmap *want;

                if (own_pins[k].pin != pin)
                        continue;
                if (!(own_pins[k].nodes ? pl->has_nodes : pl->has_cpus))
                        return false;
                want = own_pins[k].nodes ? &pl->nodes : &pl->cpus;
                for (int i = 0; i < set->nodeNr; i++) {
                        struct bitmap have = { 0 };
                        bool same;

                        if (pin == DOMAIN_PIN_NUMATUNE && !xmlStrEqual(set->nodeTab[i]->name, BAD_CAST "memory"))
                                return false;
                        same = attr_list(set->nodeTab[i], own_pins[k].attr, &have) && bitmap_equal(&have, want);
                        bitmap_done(&have);
                        if (!same)
                                return false;
                }
                return true;
        }
        return false;
}

int domain_xml_pins(const char *xml, unsigned *ret_pins)
{
        xmlDocPtr doc = xml_parse(xml);
        xmlXPathContextPtr ctx;
        xmlXPathObjectPtr rec;
        xmlNodePtr root;
        struct placement pl = { 0 };
        unsigned pins = 0;
        int r = 0;

        if (!doc)
                return -EINVAL;
        root = xmlDocGetRootElement(doc);
        ctx = xmlXPathNewContext(doc);
        if (!root || !xmlStrEqual(root->name, BAD_CAST "domain") || !ctx) {
                r = -EINVAL;
                goto out;
        }
        rec = xmlXPathEvalExpression(BAD_CAST PLACEMENT_XPATH, ctx);
        if (rec && rec->nodesetval && rec->nodesetval->nodeNr > 0)
                placement_read(rec->nodesetval->nodeTab[0], &pl);
        xmlXPathFreeObject(rec);
        for (size_t i = 0; i < ARRAY_SIZE(pin_xpaths); i++) {
                xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST pin_xpaths[i].xpath, ctx);

                if (o && o->nodesetval && o->nodesetval->nodeNr > 0 &&
                    !pins_are_own(o->nodesetval, pin_xpaths[i].pin, &pl))
                        pins |= pin_xpaths[i].pin;
                xmlXPathFreeObject(o);
        }
        *ret_pins = pins;
out:
        placement_done(&pl);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        return r;
}

int domain_placement_parse(const char *xml, char **ret_cpus, char **ret_nodes)
{
        xmlDocPtr doc;
        xmlNodePtr root;
        xmlChar *cpus, *nodes;

        if (!xml)
                return -EINVAL;
        doc = xml_parse(xml);
        if (!doc)
                return -EINVAL;
        root = xmlDocGetRootElement(doc);
        if (!root || !xmlStrEqual(root->name, BAD_CAST "placement")) {
                xmlFreeDoc(doc);
                return -EINVAL;
        }
        cpus = xmlGetProp(root, BAD_CAST "cpus");
        nodes = xmlGetProp(root, BAD_CAST "nodes");
        *ret_cpus = cpus ? xstrdup((const char *) cpus) : NULL;
        *ret_nodes = nodes ? xstrdup((const char *) nodes) : NULL;
        xmlFree(cpus);
        xmlFree(nodes);
        xmlFreeDoc(doc);
        return 0;
}

bool domain_metadata_opts_out(const char *xml)
{
        static const char *const off[] = { "off", "no", "false", "0" };
        xmlDocPtr doc;
        xmlChar *text;
        bool opt_out = false;

        if (!xml)
                return false;
        doc = xml_parse(xml);
        if (!doc)
                return false;
        text = xmlDocGetRootElement(doc) ? xmlNodeGetContent(xmlDocGetRootElement(doc)) : NULL;
        if (text) {
                char *value = (char *) text;
                size_t len;

                value += strspn(value, " \t\n");
                len = strlen(value);
                while (len > 0 && strchr(" \t\n", value[len - 1]))
                        value[--len] = '\0';
                for (size_t i = 0; i < ARRAY_SIZE(off); i++)
                        opt_out |= strcasecmp(value, off[i]) == 0;
        }
        xmlFree(text);
        xmlFreeDoc(doc);
        return opt_out;
}

/* The first disk's deepest backing image: file, block device or network name. */
#define BASE_IMAGE_XPATH "(/domain/devices/disk[not(@device) or @device='disk'])[1]//backingStore/source"

static char *base_image(const char *xml)
{
        static const char *const attrs[] = { "file", "dev", "name" };
        xmlDocPtr doc = xml ? xml_parse(xml) : NULL;
        xmlXPathContextPtr ctx = doc ? xmlXPathNewContext(doc) : NULL;
        xmlXPathObjectPtr o = ctx ? xmlXPathEvalExpression(BAD_CAST BASE_IMAGE_XPATH, ctx) : NULL;
        char *path = NULL;

        if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
                /* document order: the last is the deepest, the image the chain starts from */
                xmlNodePtr src = o->nodesetval->nodeTab[o->nodesetval->nodeNr - 1];

                for (size_t i = 0; i < ARRAY_SIZE(attrs) && !path; i++) {
                        xmlChar *v = xmlGetProp(src, BAD_CAST attrs[i]);

                        if (v && v[0])
                                path = xstrdup((const char *) v);
                        xmlFree(v);
                }
        }
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        return path;
}

static char *metadata_share_group(const char *xml)
{
        xmlDocPtr doc = xml ? xml_parse(xml) : NULL;
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        xmlChar *v = root ? xmlGetProp(root, BAD_CAST "share-group") : NULL;
        char *group = v && v[0] ? xstrdup((const char *) v) : NULL;

        xmlFree(v);
        xmlFreeDoc(doc);
        return group;
}

char *domain_share_key(const char *xml, const char *metadata_xml)
{
        _cleanup_free_ char *group = metadata_share_group(metadata_xml), *image = NULL;

        if (group)
                return xasprintf("group:%s", group);
        image = base_image(xml);
        return image ? xasprintf("image:%s", image) : NULL;
}

const char *domain_excluded_by(const char *name, char *const *exclude)
{
        const char *match = NULL;

        for (size_t i = 0; exclude && exclude[i]; i++) {
                const char *g = exclude[i];

                /* As for device lists (tuning/plan.c): a "!" pattern wins
                 * wherever it stands in the list. */
                if (g[0] == '!') {
                        if (g[1] && fnmatch(g + 1, name, 0) == 0)
                                return NULL;
                } else if (!match && g[0] && fnmatch(g, name, 0) == 0)
                        match = g;
        }
        return match;
}

void domain_update_movable(struct domain *d, char *const *exclude)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        const char *glob = domain_excluded_by(d->name, exclude);
        const char *sep = "";

        if (!f)
                abort();
        if (d->pid == 0) {
                fputs("no process", f);
                sep = ", ";
        } else if (d->n_vcpu_threads == 0) {
                fputs("no vCPU threads", f);
                sep = ", ";
        }
        if (glob) {
                fprintf(f, "%sexcluded by '%s'", sep, glob);
                sep = ", ";
        }
        for (size_t i = 0; i < ARRAY_SIZE(pin_reasons); i++)
                if (d->pins & pin_reasons[i].pin) {
                        fprintf(f, "%s%s", sep, pin_reasons[i].reason);
                        sep = ", ";
                }
        if (fclose(f) != 0)
                abort();
        free(d->reason);
        d->movable = *buf == '\0';
        d->reason = buf;
        if (d->movable) {
                free(buf);
                d->reason = NULL;
        }
}

void domain_done(struct domain *d)
{
        free(d->name);
        free(d->vcpu_threads);
        free(d->iothreads);
        free(d->emulator_tids);
        free(d->cgroup_cpuset);
        free(d->cgroup_memory);
        bitmap_done(&d->cpus);
        bitmap_done(&d->cpu_nodes);
        free(d->node_memory_kib);
        free(d->reason);
        free(d->share_key);
        *d = (struct domain){ 0 };
}

/* --- libvirt ----------------------------------------------------------- */

/* Sort a libvirt failure: gone, disconnected, or worth a warning. */
static int libvirt_error(const char *name, const char *what)
{
        const virError *e = virGetLastError();
        int code = e ? e->code : VIR_ERR_INTERNAL_ERROR;

        if (code == VIR_ERR_NO_DOMAIN || code == VIR_ERR_OPERATION_INVALID)
                return -ENOENT; /* undefined, or no longer running */
        if (code == VIR_ERR_NO_CONNECT || code == VIR_ERR_INVALID_CONN || code == VIR_ERR_RPC ||
            (code == VIR_ERR_SYSTEM_ERROR && e && e->domain == VIR_FROM_RPC))
                return -ENOTCONN;
        log_event(LOG_WARNING, MSGID_DOMAIN_UNREADABLE, NULL,
                  "domain %s: %s failed: %s", name, what, e && e->message ? e->message : "unknown error");
        return -EIO;
}

static int domain_read_libvirt(virDomainPtr dom, struct domain *d)
{
        _cleanup_free_ char *xml = NULL, *metadata = NULL;
        virDomainInfo info;
        int r;

        d->name = xstrdup(virDomainGetName(dom));
        if (virDomainGetUUIDString(dom, d->uuid) < 0)
                return libvirt_error(d->name, "virDomainGetUUIDString");
        d->id = (int) virDomainGetID(dom);
        if (virDomainGetInfo(dom, &info) < 0)
                return libvirt_error(d->name, "virDomainGetInfo");
        if (info.state == VIR_DOMAIN_SHUTOFF)
                return -ENOENT;
        d->paused = info.state == VIR_DOMAIN_PAUSED || info.state == VIR_DOMAIN_PMSUSPENDED;
        d->n_vcpus = info.nrVirtCpu;
        d->memory_kib = info.memory;

        xml = virDomainGetXMLDesc(dom, 0);
        if (!xml)
                return libvirt_error(d->name, "virDomainGetXMLDesc");
        r = domain_xml_pins(xml, &d->pins);
        if (r < 0) {
                log_event(LOG_WARNING, MSGID_DOMAIN_UNREADABLE, NULL,
                          "domain %s: libvirt returned XML that does not parse", d->name);
                return r;
        }

        metadata = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VMTUNED_XMLNS, 0);
        if (!metadata) {
                const virError *e = virGetLastError();

                /* No element, or a driver without metadata: not opted out. */
                if (!e || (e->code != VIR_ERR_NO_DOMAIN_METADATA && e->code != VIR_ERR_NO_SUPPORT))
                        return libvirt_error(d->name, "virDomainGetMetadata");
        }
        if (domain_metadata_opts_out(metadata))
                d->pins |= DOMAIN_PIN_OPT_OUT;
        d->share_key = domain_share_key(xml, metadata);
        return 0;
}

/* --- /proc and /sys ----------------------------------------------------- */

/* QEMU's PID is not in libvirt's API: libvirt's QEMU driver writes it to
 * /run/libvirt/qemu/NAME.pid (qemu:///system; qemu:///session keeps it in
 * the user's runtime directory, which vmtuned does not manage). */
static int read_pid(const struct kroot *root, const char *name, pid_t *ret)
{
        _cleanup_free_ char *path = xasprintf("run/libvirt/qemu/%s.pid", name);
        long pid;
        int r;

        r = kfile_read_long(root, path, 1, INT32_MAX, &pid);
        if (r < 0)
                return r;
        *ret = (pid_t) pid;
        return 0;
}

static int list_tids(const struct kroot *root, pid_t pid, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *path = xasprintf("proc/%d/task", (int) pid);
        _cleanup_free_ pid_t *tids = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *dir;
        int r;

        r = kfile_opendir(root, path, &dir);
        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                long tid;

                if (parse_long(de->d_name, 1, INT32_MAX, &tid) < 0)
                        continue;
                tids = xreallocarray(tids, n + 1, sizeof(pid_t));
                tids[n++] = (pid_t) tid;
        }
        closedir(dir);
        *ret = TAKE_PTR(tids);
        *ret_n = n;
        return 0;
}

static int thread_cmp(const void *a, const void *b)
{
        const struct domain_thread *x = a, *y = b;

        return x->index < y->index ? -1 : x->index > y->index;
}

static void add_thread(struct domain_thread **v, size_t *n, int index, pid_t tid)
{
        *v = xreallocarray(*v, *n + 1, sizeof(**v));
        (*v)[(*n)++] = (struct domain_thread){ .index = index, .tid = tid };
}

/* Sort every thread of the process by its name, and collect the CPUs the
 * vCPU threads may run on. Threads that exit meanwhile are skipped. */
static int read_threads(const struct kroot *root, struct domain *d)
{
        _cleanup_free_ pid_t *tids = NULL;
        size_t n_tids = 0;
        int r;

        r = list_tids(root, d->pid, &tids, &n_tids);
        if (r < 0)
                return r;
        /* The main thread is the emulator's first. */
        d->emulator_tids = xcalloc(n_tids + 1, sizeof(pid_t));
        d->emulator_tids[d->n_emulator_tids++] = d->pid;
        for (size_t i = 0; i < n_tids; i++) {
                _cleanup_free_ char *path = NULL, *status = NULL, *allowed = NULL;
                struct bitmap cpus = { 0 };
                char comm[64];
                int index;

                if (tids[i] == d->pid)
                        continue;
                path = xasprintf("proc/%d/task/%d/comm", (int) d->pid, (int) tids[i]);
                if (kfile_read(root, path, comm, sizeof(comm)) < 0)
                        continue;
                switch (procparse_thread_comm(comm, &index)) {
                case THREAD_EMULATOR:
                        d->emulator_tids[d->n_emulator_tids++] = tids[i];
                        continue;
                case THREAD_IOTHREAD:
                        add_thread(&d->iothreads, &d->n_iothreads, index, tids[i]);
                        continue;
                case THREAD_VCPU:
                        break;
                }
                add_thread(&d->vcpu_threads, &d->n_vcpu_threads, index, tids[i]);
                free(path);
                path = xasprintf("proc/%d/task/%d/status", (int) d->pid, (int) tids[i]);
                if (kfile_read_all(root, path, &status) < 0 ||
                    procparse_status_field(status, "Cpus_allowed_list", &allowed) < 0 ||
                    bitmap_parse_list(allowed, &cpus) < 0)
                        continue;
                bitmap_or(&d->cpus, &cpus);
                bitmap_done(&cpus);
        }
        if (d->n_vcpu_threads > 0)
                qsort(d->vcpu_threads, d->n_vcpu_threads, sizeof(struct domain_thread), thread_cmp);
        if (d->n_iothreads > 0)
                qsort(d->iothreads, d->n_iothreads, sizeof(struct domain_thread), thread_cmp);
        return 0;
}

/* The domain's cgroup directory for one controller, relative to the root
 * prefix, found from where its main (emulator) thread is. */
static char *cgroup_dir(const char *proc_cgroup, const char *mountinfo, const char *controller)
{
        _cleanup_free_ char *path = NULL, *mount_point = NULL, *mount_root = NULL, *dir = NULL;
        const char *rel;
        bool v2;

        if (procparse_cgroup_path(proc_cgroup, controller, &path, &v2) < 0 ||
            procparse_cgroup_mount(mountinfo, controller, v2, &mount_point, &mount_root) < 0)
                return NULL;
        dir = procparse_domain_cgroup(path);
        /* Inside a cgroup namespace the mount's root is not "/". */
        rel = dir;
        if (!streq(mount_root, "/") && startswith(rel, mount_root))
                rel += strlen(mount_root);
        rel += strspn(rel, "/");
        return xasprintf("%s%s%s", mount_point + strspn(mount_point, "/"),
                         *rel && !streq(mount_point, "/") ? "/" : "", rel);
}

static int read_cgroups(const struct kroot *root, struct domain *d)
{
        _cleanup_free_ char *path = xasprintf("proc/%d/cgroup", (int) d->pid);
        _cleanup_free_ char *proc_cgroup = NULL, *mountinfo = NULL;
        int r;

        r = kfile_read_all(root, path, &proc_cgroup);
        if (r < 0)
                return r;
        r = kfile_read_all(root, "proc/self/mountinfo", &mountinfo);
        if (r < 0) {
                (void) log_debug_errno(r, "cannot read proc/self/mountinfo: %m; cgroups of %s unknown", d->name);
                return 0;
        }
        d->cgroup_cpuset = cgroup_dir(proc_cgroup, mountinfo, "cpuset");
        d->cgroup_memory = cgroup_dir(proc_cgroup, mountinfo, "memory");
        return 0;
}

/* Which NUMA nodes hold the CPUs the vCPUs may use. Without
 * sys/devices/system/node (a kernel without NUMA) the set stays empty. */
static void read_cpu_nodes(const struct kroot *root, struct domain *d)
{
        _cleanup_(bitmap_done) struct bitmap online = { 0 };

        if (kfile_read_list(root, "sys/devices/system/node/online", &online) < 0)
                return;
        for (unsigned node = 0; node < bitmap_size(&online); node++) {
                _cleanup_free_ char *path = NULL;
                struct bitmap cpus = { 0 };

                if (!bitmap_test(&online, node))
                        continue;
                path = xasprintf("sys/devices/system/node/node%u/cpulist", node);
                if (kfile_read_list(root, path, &cpus) < 0)
                        continue;
                if (bitmap_intersects(&cpus, &d->cpus))
                        bitmap_set(&d->cpu_nodes, node);
                bitmap_done(&cpus);
        }
}

int domain_read_node_memory(struct domain *d, const struct kroot *root)
{
        _cleanup_free_ char *path = xasprintf("proc/%d/numa_maps", (int) d->pid);
        _cleanup_free_ char *buf = NULL;
        uint64_t *kib;
        size_t n;
        int r;

        r = kfile_read_all(root, path, &buf);
        if (r < 0)
                return r;
        r = procparse_numa_maps(buf, &kib, &n);
        if (r < 0)
                return r;
        free(d->node_memory_kib);
        d->node_memory_kib = kib;
        d->n_node_memory = n;
        return 0;
}

static int domain_read_process(const struct kroot *root, struct domain *d)
{
        int r;

        r = read_threads(root, d);
        if (r < 0)
                return r;
        r = read_cgroups(root, d);
        if (r < 0)
                return r;
        read_cpu_nodes(root, d);
        r = domain_read_node_memory(d, root);
        if (r == -ENOENT) {
                _cleanup_free_ char *path = xasprintf("proc/%d", (int) d->pid);

                /* The process is there but has no numa_maps: a kernel
                 * without NUMA, where there is nothing to balance. */
                if (kfile_exists(root, path))
                        r = 0;
        }
        return r;
}

int domain_build(virDomainPtr dom, const struct kroot *root, char *const *exclude, struct domain *ret)
{
        _cleanup_(domain_done) struct domain d = { 0 };
        int r;

        r = domain_read_libvirt(dom, &d);
        if (r < 0)
                return r;
        r = read_pid(root, d.name, &d.pid);
        if (r < 0 && r != -ENOENT)
                (void) log_event_errno(LOG_WARNING, r, MSGID_DOMAIN_UNREADABLE, NULL,
                                       "domain %s: cannot read its PID file: %m; treating it as without process",
                                       d.name);
        if (d.pid > 0) {
                r = domain_read_process(root, &d);
                /* Process gone (ENOENT, ESRCH): the domain stopped meanwhile. */
                if (r == -ENOENT || r == -ESRCH)
                        return -ENOENT;
                if (r < 0)
                        return log_event_errno(LOG_WARNING, r, MSGID_DOMAIN_UNREADABLE, NULL,
                                               "domain %s: cannot read /proc/%d: %m", d.name, (int) d.pid);
        }
        domain_update_movable(&d, exclude);
        *ret = d;
        d = (struct domain){ 0 };
        return 0;
}
