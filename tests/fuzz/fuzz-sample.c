/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sampler's and the topology's parsers (src/balance/sample-parse.c,
 * src/balance/topology.c): per-thread and per-CPU schedstat, a thread's
 * stat line, a memory cgroup's numa_stat, a node's meminfo, a node's
 * distance row. Each sees the whole input. Properties: a CPU count of
 * zero is fine, entries past it are never written, a distance row that
 * parses has a value from 1 to 255 exactly for the online nodes. */
#include <errno.h>

#include "balance/sample.h"
#include "balance/topology.h"
#include "fuzz.h"

#define CANARY UINT64_C(0x5a5a5a5a5a5a5a5a)

static void check_schedstat(const char *text)
{
        static const size_t n_cpus[] = { 0, 1, 4, 64 };
        struct sample_counters per_cpu[65], c;
        char state;
        unsigned cpu;

        (void) sample_parse_task_schedstat(text, &c);
        (void) sample_parse_task_stat(text, &state, &cpu);
        for (size_t i = 0; i < ARRAY_SIZE(n_cpus); i++) {
                size_t seen = 0;
                int r;

                per_cpu[n_cpus[i]] = (struct sample_counters){ CANARY, CANARY, CANARY };
                r = sample_parse_schedstat(text, per_cpu, n_cpus[i], &seen);
                FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EPROTONOSUPPORT);
                FUZZ_CHECK(per_cpu[n_cpus[i]].run_ns == CANARY && per_cpu[n_cpus[i]].slices == CANARY);
        }
}

static void check_numa_stat(const char *text)
{
        uint64_t kib[TOPOLOGY_MAX_NODES];
        int r;

        r = sample_parse_numa_stat(text, 4096, kib);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        r = sample_parse_numa_stat(text, 65536, kib);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
}

static void check_meminfo(const char *text)
{
        struct topology_meminfo m;
        int r = topology_parse_meminfo(text, &m);

        FUZZ_CHECK(r == 0 || r == -EINVAL);
}

static void check_distance(const char *text)
{
        static const char *const online_lists[] = { "0", "0-1", "0,2", "0-3", "1,3,5,7", "0-63", "0-64" };

        for (size_t i = 0; i < ARRAY_SIZE(online_lists); i++) {
                struct bitmap online = { 0 };
                uint8_t row[TOPOLOGY_MAX_NODES];

                FUZZ_CHECK(bitmap_parse_list(online_lists[i], &online) == 0);
                memset(row, 0xa5, sizeof(row));
                if (topology_parse_distance(text, &online, row) == 0) {
                        for (unsigned id = 0; id < TOPOLOGY_MAX_NODES; id++)
                                FUZZ_CHECK(bitmap_test(&online, id) ? row[id] >= 1 : row[id] == 0);
                        FUZZ_CHECK(bitmap_size(&online) <= TOPOLOGY_MAX_NODES);
                }
                bitmap_done(&online);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);

        check_schedstat(text);
        check_numa_stat(text);
        check_meminfo(text);
        check_distance(text);
        free(text);
        return 0;
}
