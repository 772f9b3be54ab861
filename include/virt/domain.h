/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One entry of the domain table: a running libvirt domain with everything
 * the NUMA balancer needs to decide about it and to move it, read from
 * libvirt (identity, XML, metadata) and from /proc and /sys under the root
 * prefix (threads, cgroups, CPUs, memory per node). */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/bitmap.h"

struct kroot;

/* The namespace of vmtuned's element in a domain's <metadata>:
 *   <vmtuned:balance xmlns:vmtuned="https://vmtuned.org/xmlns/1.0">off</vmtuned:balance>
 * (virsh metadata DOMAIN https://vmtuned.org/xmlns/1.0 --key vmtuned
 *  --set '<balance>off</balance>'). */
#define VMTUNED_XMLNS "https://vmtuned.org/xmlns/1.0"

/* Where vmtuned records the placement it gave a domain, in the live
 * <metadata> only (it goes with the live pins when the domain stops):
 *   <vmtuned:placement xmlns:vmtuned="https://vmtuned.org/xmlns/placement/1.0"
 *                      cpus="0-3" nodes="0"/>
 * A namespace of its own because libvirt keeps one element per namespace:
 * writing it under VMTUNED_XMLNS would replace the administrator's
 * <balance> element. A live virDomainPinVcpuFlags/PinEmulator/PinIOThread
 * adds <vcpupin>/<emulatorpin>/<iothreadpin> to the live XML, and a live
 * virDomainSetNumaParameters a <numatune><memory nodeset>: entries equal
 * to this record are vmtuned's own moves, not the administrator's pins
 * (domain_xml_pins). */
#define VMTUNED_PLACEMENT_XMLNS "https://vmtuned.org/xmlns/placement/1.0"
#define VMTUNED_PLACEMENT_PREFIX "vmtuned"

/* What the administrator fixed in the domain's XML or metadata. Each one
 * means "leave this VM where it is"; the reasons are in domain.c. */
enum domain_pin {
        DOMAIN_PIN_VCPUPIN        = 1 << 0,  /* <cputune><vcpupin> */
        DOMAIN_PIN_EMULATORPIN    = 1 << 1,  /* <cputune><emulatorpin> */
        DOMAIN_PIN_IOTHREADPIN    = 1 << 2,  /* <cputune><iothreadpin> */
        DOMAIN_PIN_VCPU_CPUSET    = 1 << 3,  /* <vcpu placement='static' cpuset='...'> */
        DOMAIN_PIN_NUMATUNE       = 1 << 4,  /* <numatune><memory|memnode nodeset='...'> */
        DOMAIN_PIN_PLACEMENT_AUTO = 1 << 5,  /* placement='auto': libvirt asks numad */
        DOMAIN_PIN_HUGEPAGES      = 1 << 6,  /* <memoryBacking><hugepages> */
        DOMAIN_PIN_LOCKED         = 1 << 7,  /* <memoryBacking><locked> */
        DOMAIN_PIN_HOSTDEV        = 1 << 8,  /* <devices><hostdev> */
        DOMAIN_PIN_OPT_OUT        = 1 << 9,  /* <vmtuned:balance>off</...> in <metadata> */
};

/* A QEMU thread and what it runs: vCPU number (-1: "ALL CPUs", single
 * threaded TCG) or iothread id. */
struct domain_thread {
        int index;
        pid_t tid;
};

struct domain {
        char *name;
        char uuid[VIR_UUID_STRING_BUFLEN];
        int id;                         /* libvirt's */
        pid_t pid;                      /* QEMU's; 0: no process known (test driver) */
        bool paused;
        unsigned n_vcpus;               /* online vCPUs, as libvirt counts them */
        uint64_t memory_kib;            /* current memory (balloon included) */

        /* From /proc/PID/task/ (all empty when pid is 0). */
        struct domain_thread *vcpu_threads;   /* sorted by vCPU number */
        size_t n_vcpu_threads;
        struct domain_thread *iothreads;      /* sorted by iothread id */
        size_t n_iothreads;
        pid_t *emulator_tids;                 /* every other thread, the main one first */
        size_t n_emulator_tids;

        /* The domain's cgroup for each controller, relative to the root
         * prefix ("sys/fs/cgroup/machine.slice/machine-qemu\x2d1\x2dvm.scope");
         * its threads sit below it in emulator/, vcpuN/, iothreadN/, with
         * systemd inside libvirt/. NULL when not found. */
        char *cgroup_cpuset;
        char *cgroup_memory;

        struct bitmap cpus;             /* union of the vCPU threads' Cpus_allowed_list */
        struct bitmap cpu_nodes;        /* NUMA nodes holding any of those CPUs */
        uint64_t *node_memory_kib;      /* resident memory per node (numa_maps), by node */
        size_t n_node_memory;

        /* What it likely shares pages with through KSM: "group:NAME" from
         * its metadata, or "image:PATH" of its first disk's base image
         * (domain_share_key); NULL: nothing known. */
        char *share_key;

        unsigned pins;                  /* enum domain_pin */
        bool movable;
        char *reason;                   /* why not movable ("static <vcpupin>, <hostdev>"); NULL if movable */
};

/* Build the entry of a running domain. -ENOENT: the domain or its process
 * went away while being read (drop it, nothing logged); -ENOTCONN: the
 * connection is gone (nothing logged, the close callback handles it);
 * other errors are logged here. *ret is set only on success. */
int domain_build(virDomainPtr dom, const struct kroot *root, char *const *exclude, struct domain *ret);

/* Re-read memory per node from /proc/PID/numa_maps. The kernel walks the
 * page tables of every mapping of the QEMU process under its mmap lock:
 * measured on the dev VM (Linux 6.18) about 8 ms per GiB resident in 4 KiB
 * pages, 0.1 ms per GiB in transparent huge pages, while the guest's page
 * faults wait. domain_build reads it once; after that, call it for
 * candidates, not for every domain every tick (issue 4 measures more).
 * -ENOENT if the process is gone. */
int domain_read_node_memory(struct domain *d, const struct kroot *root);

/* Pure: recompute movable and reason from pins, pid, threads and the
 * exclude globs (see domain_excluded_by). */
void domain_update_movable(struct domain *d, char *const *exclude);

/* Pure: the exclude= glob that keeps name from being moved (the first
 * that matches), or NULL. A matching "!glob" wins wherever it stands, as
 * in every glob list of vmtuned.conf(5): "db-*,!db-test" and
 * "!db-test,db-*" both exclude db-1 and not db-test. */
const char *domain_excluded_by(const char *name, char *const *exclude);

/* Pure: the DOMAIN_PIN_* flags a domain XML (virDomainGetXMLDesc) sets.
 * <vcpupin>, <emulatorpin> and <iothreadpin> whose cpuset equals the cpus
 * of vmtuned's placement record in <metadata> (VMTUNED_PLACEMENT_XMLNS),
 * and a <numatune><memory nodeset> equal to its nodes, are vmtuned's own
 * and set no flag; any one that differs (the administrator pinned after
 * vmtuned moved it) sets its flag as without a record. An administrator's
 * pin identical to the record cannot be told apart and counts as
 * vmtuned's. -EINVAL if it is not a <domain> document. */
int domain_xml_pins(const char *xml, unsigned *ret_pins);

/* Pure: vmtuned's placement record as virDomainGetMetadata returns it
 * ("<placement cpus='0-3' nodes='0'/>"), or the element with its prefix
 * and namespace: its cpus and nodes lists, malloc'd, each NULL when the
 * attribute is absent. -EINVAL if xml is not a <placement> element. */
int domain_placement_parse(const char *xml, char **ret_cpus, char **ret_nodes);

/* Pure: does vmtuned's metadata element (virDomainGetMetadata with
 * VMTUNED_XMLNS: "<balance>off</balance>") opt the domain out? "off",
 * "no", "false" and "0" do; anything else, or no XML, does not. */
bool domain_metadata_opts_out(const char *xml);

/* Pure: what a domain likely shares pages with (KSM merges identical
 * pages, and VMs cloned from one image hold many), as a key equal for
 * VMs that share: "group:NAME" when vmtuned's metadata element names one
 * (<vmtuned:balance share-group="NAME"/>, metadata_xml as
 * virDomainGetMetadata returns it; NULL: none), else "image:PATH" of the
 * base image (the last <backingStore><source>) of its first disk, else
 * NULL: a disk without a backing chain is its own. malloc'd. */
char *domain_share_key(const char *xml, const char *metadata_xml);

void domain_done(struct domain *d);

/* `vmtunectl domains`: a table, or a JSON array of objects (domain_report.c). */
void domains_print(FILE *out, const struct domain *d, size_t n, bool json);
