/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sampler's parsers: pure functions on buffers (sample.h), tested on
 * captured files in tests/fixtures/sample/. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>

#include "balance/sample.h"
#include "base/util.h"

/* --- pure parsers ------------------------------------------------------- */

static int parse_u64(const char **p, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        *p += strspn(*p, " \t");
        if (!isdigit((unsigned char) **p))
                return -EINVAL;
        errno = 0;
        v = strtoull(*p, &end, 10);
        if (errno != 0)
                return -EINVAL;
        *p = end;
        *ret = v;
        return 0;
}

int sample_parse_task_schedstat(const char *buf, struct sample_counters *ret)
{
        struct sample_counters c;
        const char *p = buf;

        if (parse_u64(&p, &c.run_ns) < 0 || parse_u64(&p, &c.wait_ns) < 0 || parse_u64(&p, &c.slices) < 0)
                return -EINVAL;
        if (p[strspn(p, " \t\n")] != '\0')
                return -EINVAL;
        *ret = c;
        return 0;
}

int sample_parse_task_stat(const char *buf, char *ret_state, unsigned *ret_cpu)
{
        const char *p = strrchr(buf, ')');
        char state = 0;

        if (!p)
                return -EINVAL;
        p++;
        for (unsigned field = 3;; field++) {
                size_t len;

                p += strspn(p, " \n");
                len = strcspn(p, " \n");
                if (len == 0)
                        return -EINVAL;
                if (field == 3)
                        state = *p;
                if (field == 39) {
                        uint64_t cpu;

                        if (parse_u64(&p, &cpu) < 0 || cpu > UINT_MAX)
                                return -EINVAL;
                        *ret_state = state;
                        *ret_cpu = (unsigned) cpu;
                        return 0;
                }
                p += len;
        }
}

int sample_parse_schedstat(const char *buf, struct sample_counters *per_cpu, size_t n_cpus, size_t *ret_n)
{
        const char *line = buf;
        size_t seen = 0;
        uint64_t version = 0;

        memset(per_cpu, 0, n_cpus * sizeof(*per_cpu));
        for (; *line; line += strcspn(line, "\n"), line += *line == '\n') {
                const char *p = line + 3;
                uint64_t cpu, f[9];

                if (startswith(line, "version ")) {
                        p = line + strlen("version");
                        if (parse_u64(&p, &version) < 0)
                                return -EINVAL;
                        continue;
                }
                if (!startswith(line, "cpu") || !isdigit((unsigned char) line[3]))
                        continue;
                /* v15 (Linux 2.6.34) to v17 (6.13) changed only domain lines. */
                if (version < 15 || version > 17)
                        return -EPROTONOSUPPORT;
                if (parse_u64(&p, &cpu) < 0)
                        return -EINVAL;
                for (size_t i = 0; i < ARRAY_SIZE(f); i++)
                        if (parse_u64(&p, &f[i]) < 0)
                                return -EINVAL;
                seen++;
                if (cpu < n_cpus)
                        per_cpu[cpu] = (struct sample_counters){ .run_ns = f[6], .wait_ns = f[7], .slices = f[8] };
        }
        if (version == 0)
                return -EINVAL;
        *ret_n = seen;
        return 0;
}

/* One "N<id>=<value>" list into acc[], scaled by unit. */
static int numa_stat_nodes(const char *p, const char *eol, uint64_t unit, uint64_t acc[TOPOLOGY_MAX_NODES])
{
        while (p < eol) {
                uint64_t id, v;

                p += strspn(p, " \t");
                if (p >= eol)
                        break;
                if (*p != 'N')
                        return -EINVAL;
                p++;
                if (parse_u64(&p, &id) < 0 || *p != '=')
                        return -EINVAL;
                p++;
                if (parse_u64(&p, &v) < 0)
                        return -EINVAL;
                if (id >= TOPOLOGY_MAX_NODES)
                        return -ERANGE;
                acc[id] += v * unit;
        }
        return 0;
}

int sample_parse_numa_stat(const char *buf, uint64_t page_size, uint64_t kib[TOPOLOGY_MAX_NODES])
{
        /* v1 flat, v1 hierarchical, v2: bytes. */
        uint64_t flat[TOPOLOGY_MAX_NODES] = { 0 }, hier[TOPOLOGY_MAX_NODES] = { 0 }, v2[TOPOLOGY_MAX_NODES] = { 0 };
        bool have_flat = false, have_hier = false, have_v2 = false;

        for (const char *line = buf; *line; line += strcspn(line, "\n"), line += *line == '\n') {
                const char *eol = line + strcspn(line, "\n");
                size_t name_len = strcspn(line, "= \n");
                bool is_v1 = line[name_len] == '=';
                const char *p = line + name_len + 1;
                uint64_t total, *acc = NULL;
                int r;

#define NAME_IS(s) (name_len == strlen(s) && strncmp(line, (s), name_len) == 0)
                if (is_v1 && (NAME_IS("anon") || NAME_IS("unevictable"))) {
                        acc = flat;
                        have_flat = true;
                } else if (is_v1 && (NAME_IS("hierarchical_anon") || NAME_IS("hierarchical_unevictable"))) {
                        acc = hier;
                        have_hier = true;
                } else if (!is_v1 && (NAME_IS("anon") || NAME_IS("shmem"))) {
                        acc = v2;
                        have_v2 = true;
                }
#undef NAME_IS
                if (!acc)
                        continue;
                /* v1 puts the total first: "anon=374 N0=374". */
                if (is_v1 && parse_u64(&p, &total) < 0)
                        return -EINVAL;
                r = numa_stat_nodes(p, eol, is_v1 ? page_size : 1, acc);
                if (r < 0)
                        return r;
        }
        if (!have_flat && !have_hier && !have_v2)
                return -EINVAL;
        for (size_t i = 0; i < TOPOLOGY_MAX_NODES; i++)
                kib[i] = (have_hier ? hier[i] : have_flat ? flat[i] : v2[i]) / 1024;
        return 0;
}
