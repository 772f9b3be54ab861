/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-VM advice of `vmtunectl advise` (advise.h). Each rule reads a
 * few elements of the domain XML, compares with the host summary, and
 * says what the guides say, naming where. A rule cites only what its
 * documents say: where a threshold is vmtuned's own, the text says so.
 * Pure: no file, no libvirt call. */
#include "virt/advise.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "base/util.h"
#include "virt/domain.h"

/* The documents, as DESIGN.md's seeds name them. */
#define RHEL "Red Hat, RHEL 7 Virtualization Tuning and Optimization Guide"
#define SUSE "SUSE, Virtualization Best Practices"
#define IBM "IBM, Best practices for KVM"
#define CANONICAL "Canonical, KVM Performance Optimization (slides)"
#define BALANCER "Current KVM Performance (slides, 2011)"

static const struct advise_rule rules[] = {
        { "disk-virtio", IBM ", \"Optimize performance by using the virtio_blk and virtio_net drivers\"; "
                         SUSE ", 6.1.1 virtio blk" },
        { "net-virtio", IBM ", \"Configure para-virtualized network devices\"; " SUSE ", 6.1.2 virtio net" },
        { "disk-cache", RHEL ", 6.3 Caching; " CANONICAL ", \"Block device - VM Cache mode\"" },
        { "disk-io", IBM ", \"Asynchronous I/O model for KVM guests\"; " CANONICAL
                     ", \"Block device - Asynchronous I/O\"; " RHEL ", 6.4 I/O Mode" },
        { "net-vhost", RHEL ", 4.3 Virtio and vhost_net; " IBM
                       ", \"Use vhost-net for high-bandwidth applications\"" },
        { "net-multiqueue", RHEL ", 4.5.2 Multi-Queue virtio-net" },
        { "cpu-model", SUSE ", 4.5.2.1 Virtual CPU models and features; " RHEL ", 2.3.2 Option: CPU Configuration" },
        { "vcpu-overcommit", SUSE ", 4.5.1 Assigning CPUs" },
        { "hugepages", RHEL ", 5.3.3.2 Configuring Static Huge Pages; " SUSE
                       ", 4.1.1 Configuring the VM Host Server and the VM Guest to use huge pages" },
        { "hugepages-pool", RHEL ", 5.3.3.2 Configuring Static Huge Pages; " SUSE
                            ", 4.1.1 Configuring the VM Host Server and the VM Guest to use huge pages" },
        { "hugepages-balloon", SUSE ", 4.1.1 Configuring the VM Host Server and the VM Guest to use huge pages" },
        { "guest-numa", SUSE ", 4.6.3.1 VM Guest virtual NUMA topology; " RHEL ", 7.4.8 Guest NUMA Topology; "
                        RHEL ", 2.3.4 Option: CPU Pinning" },
        { "pin-balancer", BALANCER ", \"Results with VM Balancer\" (20 VMs: manual binding 9096 MB/s, "
                          "balancer 19374 MB/s)" },
        { "pin-partial", RHEL ", 7.4.1 NUMA vCPU Pinning" },
        { "emulator-node", RHEL ", 7.4.4 Using emulatorpin" },
        { "memballoon", IBM ", \"Over-commit memory resources by using page sharing or ballooning\"; " SUSE
                        ", 6.1.3 virtio balloon" },
        { "nosharepages", RHEL ", 7.5 NUMA-Aware Kernel SamePage Merging (KSM); " SUSE
                          ", 4.1.4 KSM and page sharing" },
        { "locked-hard-limit", RHEL ", 5.3.2 Memory Tuning with virsh" },
};

const struct advise_rule *advise_rules(size_t *ret_n)
{
        *ret_n = ARRAY_SIZE(rules);
        return rules;
}

static const char *rule_source(const char *id)
{
        for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
                if (streq(rules[i].id, id))
                        return rules[i].source;
        abort(); /* a rule without a source is a bug here */
}

/* --- reading the XML ------------------------------------------------- */

struct reader {
        xmlXPathContextPtr ctx;
        const char *name;
        struct advice_list *list;
        size_t n_before;
};

static _printf_(3, 4) void say(struct reader *rd, const char *rule, const char *fmt, ...)
{
        struct advice *a;
        va_list ap;

        rd->list->v = xreallocarray(rd->list->v, rd->list->n + 1, sizeof(*rd->list->v));
        a = &rd->list->v[rd->list->n++];
        a->domain = xstrdup(rd->name);
        a->rule = rule;
        a->source = rule_source(rule);
        va_start(ap, fmt);
        a->text = xvasprintf(fmt, ap);
        va_end(ap);
}

/* The string value of expr at node (NULL: the document), or NULL when it
 * selects nothing or an empty string. */
static char *xp_str(struct reader *rd, xmlNodePtr node, const char *expr)
{
        xmlXPathObjectPtr o = node ? xmlXPathNodeEval(node, BAD_CAST expr, rd->ctx)
                                   : xmlXPathEvalExpression(BAD_CAST expr, rd->ctx);
        char *s = NULL;

        if (o && o->type == XPATH_STRING && o->stringval && o->stringval[0])
                s = xstrdup((const char *) o->stringval);
        xmlXPathFreeObject(o);
        return s;
}

static bool xp_exists(struct reader *rd, const char *expr)
{
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, rd->ctx);
        bool yes = o && o->type == XPATH_BOOLEAN ? o->boolval
                 : o && o->nodesetval && o->nodesetval->nodeNr > 0;

        xmlXPathFreeObject(o);
        return yes;
}

/* libvirt's memory units (formatdomain "Memory Allocation"), to KiB. */
static bool unit_kib(const char *unit, uint64_t *ret_num, uint64_t *ret_den)
{
        static const struct {
                const char *name;
                uint64_t num, den;
        } units[] = {
                { "b", 1, 1024 }, { "bytes", 1, 1024 }, { "KB", 1000, 1024 }, { "k", 1, 1 }, { "KiB", 1, 1 },
                { "MB", 1000000, 1024 }, { "M", 1024, 1 }, { "MiB", 1024, 1 },
                { "GB", 1000000000, 1024 }, { "G", 1048576, 1 }, { "GiB", 1048576, 1 },
                { "TB", 1000000000000, 1024 }, { "T", 1073741824, 1 }, { "TiB", 1073741824, 1 },
        };

        if (!unit) {
                *ret_num = *ret_den = 1;
                return true;
        }
        for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                if (streq(unit, units[i].name)) {
                        *ret_num = units[i].num;
                        *ret_den = units[i].den;
                        return true;
                }
        return false;
}

/* A size element or attribute pair in KiB; 0 when absent or unreadable. */
static uint64_t xp_kib(struct reader *rd, xmlNodePtr node, const char *value_expr, const char *unit_expr)
{
        _cleanup_free_ char *v = xp_str(rd, node, value_expr), *u = xp_str(rd, node, unit_expr);
        uint64_t n, num, den;
        char *end;

        if (!v || !unit_kib(u, &num, &den))
                return 0;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-')
                return 0;
        if (num > 1 && n > UINT64_MAX / num)
                return UINT64_MAX / den;
        return n * num / den;
}

static unsigned xp_uint(struct reader *rd, xmlNodePtr node, const char *expr)
{
        _cleanup_free_ char *v = xp_str(rd, node, expr);
        unsigned long n;
        char *end;

        if (!v || v[0] == '-')
                return 0;
        errno = 0;
        n = strtoul(v, &end, 10);
        return errno || end == v || *end || n > 65536 ? 0 : (unsigned) n;
}

/* A libvirt cpuset ("0-3,^2,8"): -EINVAL when it is not one. */
static int cpuset_parse(const char *s, struct bitmap *ret)
{
        struct bitmap in = {}, out = {};
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL;
        int r = 0;

        for (char *tok = strtok_r(copy, ",", &save); tok && r == 0; tok = strtok_r(NULL, ",", &save)) {
                bool excl = tok[0] == '^';
                struct bitmap one = {};

                r = bitmap_parse_list(tok + excl, &one);
                if (r == 0)
                        bitmap_or(excl ? &out : &in, &one);
                bitmap_done(&one);
        }
        if (r == 0) {
                for (unsigned i = 0; i < bitmap_size(&in); i++)
                        if (bitmap_test(&in, i) && !bitmap_test(&out, i))
                                bitmap_set(ret, i);
        }
        bitmap_done(&in);
        bitmap_done(&out);
        return r < 0 ? -EINVAL : 0;
}

/* The host nodes holding any CPU of the cpuset attributes expr selects. */
static void nodes_of_cpusets(struct reader *rd, const struct advise_host *h, const char *expr,
                             struct bitmap *ret)
{
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, rd->ctx);
        struct bitmap cpus = {};

        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
                xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);

                if (v)
                        (void) cpuset_parse((const char *) v, &cpus);
                xmlFree(v);
        }
        xmlXPathFreeObject(o);
        for (size_t n = 0; n < h->n_nodes; n++)
                if (bitmap_intersects(&cpus, &h->nodes[n].cpus))
                        bitmap_set(ret, (unsigned) n);
        bitmap_done(&cpus);
}

/* --- the rules -------------------------------------------------------- */

struct facts {
        unsigned vcpus;
        uint64_t memory_kib;
        uint64_t current_kib;
        bool hugepages;
        unsigned pins;           /* domain_xml_pins: the administrator's, not vmtuned's */
};

static void rules_disks(struct reader *rd)
{
        xmlXPathObjectPtr o = xmlXPathEvalExpression(
                BAD_CAST "/domain/devices/disk[not(@device) or @device='disk']", rd->ctx);

        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
                xmlNodePtr disk = o->nodesetval->nodeTab[i];
                _cleanup_free_ char *dev = xp_str(rd, disk, "string(target/@dev)");
                _cleanup_free_ char *bus = xp_str(rd, disk, "string(target/@bus)");
                _cleanup_free_ char *type = xp_str(rd, disk, "string(@type)");
                _cleanup_free_ char *cache = xp_str(rd, disk, "string(driver/@cache)");
                _cleanup_free_ char *io = xp_str(rd, disk, "string(driver/@io)");
                const char *name = dev ? dev : "?";

                /* scsi is virtio-scsi or an emulated HBA: not ours to tell. */
                if (bus && (streq(bus, "ide") || streq(bus, "sata") || streq(bus, "usb") || streq(bus, "fdc")))
                        say(rd, "disk-virtio",
                            "disk %s is on an emulated %s bus: use bus='virtio' (virtio_blk), which has "
                            "lower latency and higher throughput than an emulated device", name, bus);
                /* The guides' block-storage advice: host page cache off,
                 * kernel AIO on. A disk image file is another case
                 * (IBM recommends writethrough for local images). */
                if (!type || !streq(type, "block"))
                        continue;
                if (!cache || !(streq(cache, "none") || streq(cache, "directsync")))
                        say(rd, "disk-cache",
                            "block device disk %s uses cache='%s': cache='none' keeps guest I/O out of the "
                            "host page cache, is generally the best choice and the only one that supports "
                            "migration", name, cache ? cache : "default");
                if (!io || !(streq(io, "native") || streq(io, "io_uring")))
                        say(rd, "disk-io",
                            "block device disk %s uses io='%s': io='native' (kernel asynchronous I/O, with "
                            "cache='none'; io_uring on newer QEMU) improves guest I/O with several threads "
                            "doing I/O", name, io ? io : "threads");
        }
        xmlXPathFreeObject(o);
}

static void rules_interfaces(struct reader *rd, const struct advise_host *h, const struct facts *f)
{
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST "/domain/devices/interface[not(@type='hostdev')]",
                                                     rd->ctx);

        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
                xmlNodePtr nic = o->nodesetval->nodeTab[i];
                _cleanup_free_ char *mac = xp_str(rd, nic, "string(mac/@address)");
                _cleanup_free_ char *model = xp_str(rd, nic, "string(model/@type)");
                _cleanup_free_ char *driver = xp_str(rd, nic, "string(driver/@name)");
                unsigned queues = xp_uint(rd, nic, "string(driver/@queues)");
                char label[64];

                snprintf(label, sizeof(label), "interface %d%s%s", i + 1, mac ? " " : "", mac ? mac : "");
                if (!model || !streq(model, "virtio")) {
                        say(rd, "net-virtio",
                            "%s has model '%s': use <model type='virtio'/>, a para-virtualized device with "
                            "better throughput and latency than an emulated one", label,
                            model ? model : "(the hypervisor's default, emulated)");
                        continue;
                }
                if (driver && streq(driver, "qemu"))
                        say(rd, "net-vhost",
                            "%s has <driver name='qemu'/>, which turns vhost-net off: packets go through "
                            "QEMU in user space; drop it (or name='vhost') so the kernel moves them", label);
                else if (h->vhost_net_known && !h->vhost_net)
                        say(rd, "net-vhost",
                            "%s is virtio, but the host has no /dev/vhost-net: load the vhost_net module "
                            "so the kernel moves the packets instead of QEMU", label);
                if (f->vcpus > 1 && queues <= 1)
                        say(rd, "net-multiqueue",
                            "%s has one queue for %u vCPUs: <driver name='vhost' queues='%u'/> (and "
                            "ethtool -L in the guest) lets the vCPUs send and receive in parallel; it helps "
                            "incoming traffic most and can hurt small outgoing packets", label, f->vcpus,
                            f->vcpus);
        }
        xmlXPathFreeObject(o);
}

static void rules_cpu(struct reader *rd, const struct advise_host *h, const struct facts *f)
{
        _cleanup_free_ char *mode = xp_str(rd, NULL, "string(/domain/cpu/@mode)");
        _cleanup_free_ char *model = xp_str(rd, NULL, "string(/domain/cpu/model)");

        if (!mode || !(streq(mode, "host-passthrough") || streq(mode, "maximum")))
                say(rd, "cpu-model",
                    "CPU mode '%s'%s%s: <cpu mode='host-passthrough'> most closely resembles the host CPU "
                    "and gives the guest its features (not for migration to different hardware)",
                    mode ? mode : "default", model ? ", model " : "", model ? model : "");
        if (h->n_cpus > 0 && f->vcpus > h->n_cpus)
                say(rd, "vcpu-overcommit",
                    "%u vCPUs on a host with %u CPUs: a VM with more vCPUs than the host has CPUs is "
                    "always a misconfiguration", f->vcpus, h->n_cpus);
}

static uint64_t hugepage_kib(struct reader *rd, const struct advise_host *h)
{
        uint64_t kib = xp_kib(rd, NULL, "string(/domain/memoryBacking/hugepages/page[1]/@size)",
                              "string(/domain/memoryBacking/hugepages/page[1]/@unit)");

        return kib ? kib : h->default_hugepage_kib;
}

static void rules_memory(struct reader *rd, const struct advise_host *h, const struct facts *f, bool active)
{
        const uint64_t gib = 1024 * 1024;

        if (!f->hugepages && f->memory_kib >= ADVISE_LARGE_VM_KIB)
                say(rd, "hugepages",
                    "%" PRIu64 " MiB of memory in 4 KiB pages: back it with static huge pages "
                    "(<memoryBacking><hugepages/>) reserved on the host; 'large' is vmtuned's threshold "
                    "of %" PRIu64 " GiB", f->memory_kib / 1024, ADVISE_LARGE_VM_KIB / gib);
        if (f->hugepages && f->memory_kib > 0) {
                uint64_t size = hugepage_kib(rd, h), need = 0;
                const struct advise_hugepages *pool = NULL;

                for (size_t i = 0; i < h->n_hugepages; i++)
                        if (h->hugepages[i].size_kib == size)
                                pool = &h->hugepages[i];
                if (size > 0)
                        need = (f->memory_kib + size - 1) / size;
                if (size > 0 && !pool && h->n_hugepages > 0)
                        say(rd, "hugepages-pool",
                            "asks for %" PRIu64 " KiB huge pages, a size this host does not offer", size);
                else if (pool && pool->total < need)
                        say(rd, "hugepages-pool",
                            "needs %" PRIu64 " huge pages of %" PRIu64 " KiB; the host's pool has %" PRIu64
                            ": reserve more (vm.nr_hugepages, or per node)", need, size, pool->total);
                else if (pool && !active && pool->free < need)
                        say(rd, "hugepages-pool",
                            "needs %" PRIu64 " huge pages of %" PRIu64 " KiB to start; %" PRIu64
                            " are free", need, size, pool->free);
                if (f->current_kib > 0 && f->current_kib < f->memory_kib)
                        say(rd, "hugepages-balloon",
                            "backed by huge pages with the balloon at %" PRIu64 " of %" PRIu64 " MiB: huge "
                            "pages lose ballooning and KSM, so the balloon frees no host memory",
                            f->current_kib / 1024, f->memory_kib / 1024);
        }
        if (h->ksm_running && xp_exists(rd, "/domain/devices/memballoon[@model='none']") && !f->hugepages)
                say(rd, "memballoon",
                    "no balloon (<memballoon model='none'/>) on a host that shares memory with KSM: "
                    "the host can take memory back only by page sharing or swapping; "
                    "<memballoon model='virtio'/> adds ballooning, which outperforms swapping");
        if (xp_exists(rd, "/domain/memoryBacking/locked") && !xp_exists(rd, "/domain/memtune/hard_limit"))
                say(rd, "locked-hard-limit",
                    "locked memory without <memtune><hard_limit>: set it to the guest's memory plus "
                    "what QEMU itself uses");
}

/* A guest with locked memory or a real-time vCPU scheduler is tuned for
 * latency; so is every guest when the host runs a latency profile. */
static bool latency_vm(struct reader *rd, const struct advise_host *h)
{
        return h->latency_profile || xp_exists(rd, "/domain/memoryBacking/locked") ||
               xp_exists(rd, "/domain/cputune/vcpusched[@scheduler='fifo' or @scheduler='rr']");
}

static void rules_numa(struct reader *rd, const struct advise_host *h, const struct facts *f)
{
        uint64_t node_kib = 0;
        unsigned node_cpus = 0;
        bool vnuma = xp_exists(rd, "/domain/cpu/numa/cell");
        bool vcpupin = f->pins & (DOMAIN_PIN_VCPUPIN | DOMAIN_PIN_VCPU_CPUSET);
        bool numatune = f->pins & DOMAIN_PIN_NUMATUNE;

        for (size_t n = 0; n < h->n_nodes; n++) {
                node_kib = MAX(node_kib, h->nodes[n].mem_kib);
                node_cpus = MAX(node_cpus, bitmap_count(&h->nodes[n].cpus));
        }
        if (h->n_nodes > 1 && !vnuma &&
            ((node_kib > 0 && f->memory_kib > node_kib) || (node_cpus > 0 && f->vcpus > node_cpus)))
                say(rd, "guest-numa",
                    "%u vCPUs and %" PRIu64 " MiB do not fit one host node (%u CPUs, %" PRIu64 " MiB) and "
                    "the guest has no NUMA topology: add <cpu><numa><cell .../></numa></cpu> resembling "
                    "the host's, and do not pin it to a single node", f->vcpus, f->memory_kib / 1024,
                    node_cpus, node_kib / 1024);

        if (h->balancer && (f->pins & (DOMAIN_PIN_VCPUPIN | DOMAIN_PIN_VCPU_CPUSET | DOMAIN_PIN_NUMATUNE |
                                       DOMAIN_PIN_EMULATORPIN | DOMAIN_PIN_PLACEMENT_AUTO)))
                say(rd, "pin-balancer",
                    "%s: vmtuned's balancer leaves this VM where it is; manual binding kept VMs "
                    "stuck on their nodes where the balancer moved them (less than half the throughput); "
                    "remove the pins to let it be balanced, or keep them and exclude= it",
                    (f->pins & DOMAIN_PIN_PLACEMENT_AUTO) ? "placement='auto' hands it to numad"
                                                          : "static pinning in <cputune>/<vcpu>/<numatune>");
        if (vcpupin != numatune)
                say(rd, "pin-partial",
                    "%s without %s: vCPU pinning and <numatune> should be configured together (with "
                    "<emulatorpin>), or a pinned vCPU reads memory from another node",
                    vcpupin ? "vCPU pinning" : "<numatune> memory binding",
                    vcpupin ? "<numatune>" : "vCPU pinning");
        if (h->n_nodes > 1 && (f->pins & DOMAIN_PIN_EMULATORPIN) && vcpupin) {
                struct bitmap emu = {}, vcpu = {};

                nodes_of_cpusets(rd, h, "/domain/cputune/emulatorpin/@cpuset", &emu);
                nodes_of_cpusets(rd, h, "/domain/cputune/vcpupin/@cpuset | /domain/vcpu/@cpuset", &vcpu);
                if (bitmap_count(&emu) > 0 && bitmap_count(&vcpu) > 0 && !bitmap_equal(&emu, &vcpu)) {
                        _cleanup_free_ char *e = bitmap_format_list(&emu), *v = bitmap_format_list(&vcpu);

                        say(rd, "emulator-node",
                            "emulator threads pinned to node(s) %s, vCPUs to node(s) %s: pin them to the "
                            "vCPUs' node, so the vhost threads share their caches and memory", e, v);
                }
                bitmap_done(&emu);
                bitmap_done(&vcpu);
        }
        if (h->ksm_running && latency_vm(rd, h) && !xp_exists(rd, "/domain/memoryBacking/nosharepages"))
                say(rd, "nosharepages",
                    "latency-sensitive VM on a host running KSM: a page merged with one on a distant node "
                    "raises its access latency; add <memoryBacking><nosharepages/> to keep KSM off it");
}

int advise_domain(const char *xml, bool active, const struct advise_host *host, struct advice_list *list)
{
        xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        struct reader rd = { .list = list };
        struct facts f = {};
        _cleanup_free_ char *name = NULL;
        xmlNodePtr root;
        int r = 0;

        if (!doc)
                return -EINVAL;
        root = xmlDocGetRootElement(doc);
        rd.ctx = xmlXPathNewContext(doc);
        if (!root || !xmlStrEqual(root->name, BAD_CAST "domain") || !rd.ctx ||
            domain_xml_pins(xml, &f.pins) < 0) {
                r = -EINVAL;
                goto out;
        }
        name = xp_str(&rd, NULL, "string(/domain/name)");
        rd.name = name ? name : "?";
        f.vcpus = xp_uint(&rd, NULL, "string(/domain/vcpu)");
        f.memory_kib = xp_kib(&rd, NULL, "string(/domain/memory)", "string(/domain/memory/@unit)");
        f.current_kib = xp_kib(&rd, NULL, "string(/domain/currentMemory)", "string(/domain/currentMemory/@unit)");
        f.hugepages = xp_exists(&rd, "/domain/memoryBacking/hugepages");

        rules_disks(&rd);
        rules_interfaces(&rd, host, &f);
        rules_cpu(&rd, host, &f);
        rules_memory(&rd, host, &f, active);
        rules_numa(&rd, host, &f);
out:
        xmlXPathFreeContext(rd.ctx);
        xmlFreeDoc(doc);
        return r;
}

void advice_list_free(struct advice_list *list)
{
        for (size_t i = 0; i < list->n; i++) {
                free(list->v[i].domain);
                free(list->v[i].text);
        }
        free(list->v);
        *list = (struct advice_list) {};
}

void advice_print(FILE *out, const struct advice_list *list, size_t n_domains, bool json)
{
        if (json) {
                json_print_open(out);
                fputs(",\"advice\":[", out);
                for (size_t i = 0; i < list->n; i++) {
                        const struct advice *a = &list->v[i];
                        const char *const fields[][2] = {
                                { "domain", a->domain }, { "rule", a->rule },
                                { "text", a->text }, { "reference", a->source },
                        };

                        fputs(i ? "," : "", out);
                        for (size_t k = 0; k < ARRAY_SIZE(fields); k++) {
                                fprintf(out, "%s\"%s\":", k ? "," : "{", fields[k][0]);
                                json_print_string(out, fields[k][1]);
                        }
                        fputc('}', out);
                }
                fprintf(out, "],\"domains\":%zu}\n", n_domains);
                return;
        }
        for (size_t i = 0; i < list->n; i++) {
                const struct advice *a = &list->v[i];

                fprintf(out, "%s: %s: %s\n    [%s]\n", a->domain, a->rule, a->text, a->source);
        }
        if (list->n == 0)
                fprintf(out, "no advice for %zu domain(s)\n", n_domains);
}
