/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl advise` and `vmtunectl recommend` in the daemon: read the
 * host's facts under the root prefix and the domains through the
 * daemon's libvirt connection, hand them to the pure rules
 * (virt/advise.c, daemon/recommend-policy.c), write the answer.
 *
 * Exit codes of advise: 0 nothing to say, 1 advice given (as verify's 1
 * for drift: something to look at) or the domains could not be read, 2
 * usage. recommend: 0. */
#include "daemon/commands-advise.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libvirt/libvirt.h>
#include <stdlib.h>
#include <string.h>

#include "balance/balancer.h"
#include "base/bitmap.h"
#include "base/json.h"
#include "base/kfile.h"
#include "base/util.h"
#include "config/profile.h"
#include "daemon/ctlproto.h"
#include "daemon/daemon.h"
#include "daemon/recommend.h"
#include "virt/advise.h"
#include "virt/virt.h"

#define NODES_MAX 64
#define POOLS_MAX 4

struct host_facts {
        struct advise_node nodes[NODES_MAX];
        struct advise_hugepages pools[POOLS_MAX];
        struct advise_host host;
        uint64_t mem_total_kib;
};

/* "KEY:   N kB" in a meminfo-style text (proc/meminfo, a node's meminfo
 * whose lines start with "Node N "); 0 when absent. */
static uint64_t meminfo_kib(const char *text, const char *key)
{
        const char *p = text ? strstr(text, key) : NULL;

        return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void read_nodes(const struct kroot *root, struct host_facts *h)
{
        struct bitmap online = {};

        if (kfile_read_list(root, "sys/devices/system/node/online", &online) < 0)
                return;
        for (unsigned n = 0; n < bitmap_size(&online) && h->host.n_nodes < NODES_MAX; n++) {
                struct advise_node *node = &h->nodes[h->host.n_nodes];
                _cleanup_free_ char *meminfo = NULL;
                char path[96];

                if (!bitmap_test(&online, n))
                        continue;
                snprintf(path, sizeof(path), "sys/devices/system/node/node%u/cpulist", n);
                (void) kfile_read_list(root, path, &node->cpus);
                snprintf(path, sizeof(path), "sys/devices/system/node/node%u/meminfo", n);
                if (kfile_read_all(root, path, &meminfo) == 0)
                        node->mem_kib = meminfo_kib(meminfo, "MemTotal:");
                h->host.n_nodes++;
        }
        bitmap_done(&online);
}

static void read_hugepages(const struct kroot *root, struct host_facts *h)
{
        DIR *dir = NULL;
        struct dirent *de;

        if (kfile_opendir(root, "sys/kernel/mm/hugepages", &dir) < 0)
                return;
        while ((de = readdir(dir)) && h->host.n_hugepages < POOLS_MAX) {
                struct advise_hugepages *p = &h->pools[h->host.n_hugepages];
                char path[320];

                if (sscanf(de->d_name, "hugepages-%" SCNu64 "kB", &p->size_kib) != 1)
                        continue;
                snprintf(path, sizeof(path), "sys/kernel/mm/hugepages/%s/nr_hugepages", de->d_name);
                if (kfile_read_u64(root, path, &p->total) < 0)
                        continue;
                snprintf(path, sizeof(path), "sys/kernel/mm/hugepages/%s/free_hugepages", de->d_name);
                if (kfile_read_u64(root, path, &p->free) < 0)
                        p->free = 0;
                h->host.n_hugepages++;
        }
        closedir(dir);
}

static void host_facts_read(struct daemon *d, struct host_facts *h)
{
        _cleanup_free_ char *meminfo = NULL;
        struct bitmap cpus = {};
        uint64_t run = 0;

        *h = (struct host_facts) {};
        h->host.nodes = h->nodes;
        h->host.hugepages = h->pools;
        read_nodes(&d->root, h);
        read_hugepages(&d->root, h);
        if (kfile_read_list(&d->root, "sys/devices/system/cpu/online", &cpus) == 0)
                h->host.n_cpus = bitmap_count(&cpus);
        bitmap_done(&cpus);
        if (kfile_read_all(&d->root, "proc/meminfo", &meminfo) == 0) {
                h->mem_total_kib = meminfo_kib(meminfo, "MemTotal:");
                h->host.default_hugepage_kib = meminfo_kib(meminfo, "Hugepagesize:");
        }
        h->host.ksm_running = kfile_read_u64(&d->root, "sys/kernel/mm/ksm/run", &run) == 0 && run == 1;
        h->host.vhost_net_known = true;
        h->host.vhost_net = kfile_exists(&d->root, "dev/vhost-net");
        h->host.balancer = d->balancer != NULL;
        h->host.latency_profile = strstr(d->tuning.profile->name, "latency") != NULL;
}

static void host_facts_done(struct host_facts *h)
{
        for (size_t i = 0; i < h->host.n_nodes; i++)
                bitmap_done(&h->nodes[i].cpus);
}

static int fail(FILE *out, bool json, const char *msg)
{
        if (json)
                json_print_error(out, msg);
        else
                fprintf(out, "%s\n", msg);
        return CTL_EXIT_FAILURE;
}

static int domain_cmp(const void *a, const void *b)
{
        return strcmp(virDomainGetName(*(virDomainPtr const *) a), virDomainGetName(*(virDomainPtr const *) b));
}

static bool wanted(const char *name, int argc, char **argv)
{
        if (argc <= 1)
                return true;
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], name))
                        return true;
        return false;
}

int cmd_advise(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        virConnectPtr conn = d->virt ? virt_connection(d->virt) : NULL;
        struct advice_list list = {};
        struct host_facts h;
        virDomainPtr *doms = NULL;
        size_t n_seen = 0;
        int n, r = CTL_EXIT_OK;

        for (int i = 1; i < argc; i++)
                if (argv[i][0] == '-') {
                        (void) fail(out, json, "usage: vmtunectl advise [DOMAIN...]");
                        return CTL_EXIT_USAGE;
                }
        if (!conn)
                return fail(out, json, "libvirt is not connected: no domain to advise on");
        /* Defined domains too: advice is about what to edit before a start. */
        n = virConnectListAllDomains(conn, &doms, 0);
        if (n < 0)
                return fail(out, json, "libvirt did not list the domains");
        qsort(doms, (size_t) n, sizeof(*doms), domain_cmp);
        host_facts_read(d, &h);
        for (int i = 0; i < n; i++) {
                const char *name = virDomainGetName(doms[i]);
                char *xml;

                if (!wanted(name, argc, argv))
                        continue;
                n_seen++;
                xml = virDomainGetXMLDesc(doms[i], 0);
                if (xml)
                        (void) advise_domain(xml, virDomainIsActive(doms[i]) == 1, &h.host, &list);
                free(xml);
        }
        for (int i = 0; i < n; i++)
                virDomainFree(doms[i]);
        free(doms);
        host_facts_done(&h);
        /* Every name asked for must exist: a typo is not "nothing to say". */
        if (argc > 1 && n_seen < (size_t) (argc - 1)) {
                advice_list_free(&list);
                return fail(out, json, "no such domain among the ones given (vmtunectl domains lists them)");
        }
        advice_print(out, &list, n_seen, json);
        if (list.n > 0)
                r = CTL_EXIT_FAILURE;
        advice_list_free(&list);
        return r;
}

static void recommend_facts_read(struct daemon *d, struct recommend_facts *f)
{
        struct host_facts h;
        const struct domain *doms = NULL;
        size_t n = 0;
        DIR *dir = NULL;
        struct dirent *de;

        *f = (struct recommend_facts) {};
        host_facts_read(d, &h);
        f->kvm = kfile_exists(&d->root, "dev/kvm");
        f->n_nodes = (unsigned) h.host.n_nodes;
        f->host_mem_kib = h.mem_total_kib;
        host_facts_done(&h);
        f->libvirt = d->virt && virt_is_connected(d->virt);
        if (d->virt)
                doms = virt_domains(d->virt, &n);
        f->n_domains = (unsigned) n;
        for (size_t i = 0; i < n; i++) {
                f->domains_mem_kib += doms[i].memory_kib;
                f->n_latency_domains += (doms[i].pins & DOMAIN_PIN_LOCKED) != 0;
        }
        (void) kfile_read_u64(&d->root, "sys/kernel/mm/ksm/pages_sharing", &f->ksm_pages_sharing);
        f->cpufreq = kfile_exists(&d->root, "sys/devices/system/cpu/cpufreq/policy0") ||
                     kfile_exists(&d->root, "sys/devices/system/cpu/cpu0/cpufreq");
        if (kfile_opendir(&d->root, "sys/block", &dir) < 0)
                return;
        while ((de = readdir(dir))) {
                char path[300];
                uint64_t rot;

                /* Whole disks only: loop, ram and device-mapper sit on them. */
                if (de->d_name[0] == '.' || strncmp(de->d_name, "loop", 4) == 0 ||
                    strncmp(de->d_name, "ram", 3) == 0 || strncmp(de->d_name, "dm-", 3) == 0)
                        continue;
                snprintf(path, sizeof(path), "sys/block/%s/queue/rotational", de->d_name);
                if (kfile_read_u64(&d->root, path, &rot) == 0) {
                        f->n_rotational += rot == 1;
                        f->n_solid += rot == 0;
                }
        }
        closedir(dir);
}

const char *commands_recommended_profile(struct daemon *d)
{
        struct recommend_facts f;
        struct recommendation r;
        const char *name;

        recommend_facts_read(d, &f);
        recommend_profile(&f, &r);
        name = r.profile;
        recommendation_done(&r);
        return name;
}

int cmd_recommend(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        struct recommend_facts f;
        struct recommendation r;

        if (argc != 1) {
                (void) fail(out, json, "usage: vmtunectl recommend");
                return CTL_EXIT_USAGE;
        }
        recommend_facts_read(d, &f);
        recommend_profile(&f, &r);
        if (json) {
                json_print_open(out);
                fputs(",\"profile\":", out);
                json_print_string(out, r.profile);
                fputs(",\"reasons\":[", out);
                for (size_t i = 0; i < r.n_reasons; i++) {
                        fputs(i ? "," : "", out);
                        json_print_string(out, r.reasons[i]);
                }
                fputs("]}\n", out);
        } else {
                fprintf(out, "%s\n", r.profile);
                for (size_t i = 0; i < r.n_reasons; i++)
                        fprintf(out, "  - %s\n", r.reasons[i]);
        }
        recommendation_done(&r);
        return CTL_EXIT_OK;
}
