/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl domains`: the domain table as a text table for people and as
 * JSON for scripts. The JSON carries everything the table has and more
 * (threads, cgroups), with stable keys. */
#include <inttypes.h>
#include <stdio.h>

#include "virt/domain.h"
#include "base/json.h"
#include "base/util.h"

enum { COL_NAME, COL_ID, COL_PID, COL_STATE, COL_VCPUS, COL_MEMORY, COL_CPUS, COL_CPU_NODES,
       COL_MEMORY_NODES, COL_MOVABLE, N_COLUMNS };

static const char *const headers[N_COLUMNS] = {
        "NAME", "ID", "PID", "STATE", "VCPUS", "MEMORY", "CPUS", "CPU-NODES", "MEMORY-NODES", "MOVABLE",
};

static char *format_kib(uint64_t kib)
{
        if (kib < 1024)
                return xasprintf("%" PRIu64 " KiB", kib);
        if (kib < 1024 * 1024)
                return xasprintf("%" PRIu64 " MiB", kib / 1024);
        return xasprintf("%.1f GiB", (double) kib / (1024.0 * 1024.0));
}

static char *format_memory_nodes(const struct domain *d)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        const char *sep = "";

        if (!f)
                abort();
        for (size_t node = 0; node < d->n_node_memory; node++) {
                _cleanup_free_ char *kib = NULL;

                if (d->node_memory_kib[node] == 0)
                        continue;
                kib = format_kib(d->node_memory_kib[node]);
                fprintf(f, "%s%zu: %s", sep, node, kib);
                sep = ", ";
        }
        if (fclose(f) != 0)
                abort();
        if (!*buf) {
                free(buf);
                return xstrdup("-");
        }
        return buf;
}

static char *format_list_or_dash(const struct bitmap *b)
{
        char *s = bitmap_format_list(b);

        if (*s)
                return s;
        free(s);
        return xstrdup("-");
}

static void row_cells(const struct domain *d, char **cells)
{
        cells[COL_NAME] = xstrdup(d->name);
        cells[COL_ID] = xasprintf("%d", d->id);
        cells[COL_PID] = d->pid > 0 ? xasprintf("%d", (int) d->pid) : xstrdup("-");
        cells[COL_STATE] = xstrdup(d->paused ? "paused" : "running");
        cells[COL_VCPUS] = xasprintf("%u", d->n_vcpus);
        cells[COL_MEMORY] = format_kib(d->memory_kib);
        cells[COL_CPUS] = format_list_or_dash(&d->cpus);
        cells[COL_CPU_NODES] = format_list_or_dash(&d->cpu_nodes);
        cells[COL_MEMORY_NODES] = format_memory_nodes(d);
        cells[COL_MOVABLE] = d->movable ? xstrdup("yes") : xasprintf("no: %s", d->reason ? d->reason : "?");
}

/* Left-aligned and padded, except the last column, which ends the line. */
static void print_cell(FILE *out, const char *s, size_t width, bool last)
{
        if (last)
                fprintf(out, "%s\n", s);
        else
                fprintf(out, "%-*s  ", (int) width, s);
}

static void print_table(FILE *out, const struct domain *d, size_t n)
{
        _cleanup_free_ char **cells = xcalloc(n * N_COLUMNS, sizeof(char *));
        size_t width[N_COLUMNS];

        for (size_t c = 0; c < N_COLUMNS; c++)
                width[c] = strlen(headers[c]);
        for (size_t i = 0; i < n; i++) {
                row_cells(&d[i], cells + i * N_COLUMNS);
                for (size_t c = 0; c < N_COLUMNS; c++)
                        if (strlen(cells[i * N_COLUMNS + c]) > width[c])
                                width[c] = strlen(cells[i * N_COLUMNS + c]);
        }
        for (size_t c = 0; c < N_COLUMNS; c++)
                print_cell(out, headers[c], width[c], c + 1 == N_COLUMNS);
        for (size_t i = 0; i < n; i++)
                for (size_t c = 0; c < N_COLUMNS; c++) {
                        print_cell(out, cells[i * N_COLUMNS + c], width[c], c + 1 == N_COLUMNS);
                        free(cells[i * N_COLUMNS + c]);
                }
        if (n == 0)
                fputs("(no running domains)\n", out);
}

/* --- JSON ------------------------------------------------------------------ */

static void json_threads(FILE *out, const char *key, const char *index_key,
                         const struct domain_thread *t, size_t n)
{
        fprintf(out, ",\"%s\":[", key);
        for (size_t i = 0; i < n; i++)
                fprintf(out, "%s{\"%s\":%d,\"tid\":%d}", i ? "," : "", index_key, t[i].index, (int) t[i].tid);
        fputc(']', out);
}

static void json_domain(FILE *out, const struct domain *d)
{
        _cleanup_free_ char *cpus = bitmap_format_list(&d->cpus);
        const char *sep = "";

        fputs("{\"name\":", out);
        json_print_string(out, d->name);
        fputs(",\"uuid\":", out);
        json_print_string(out, d->uuid);
        fprintf(out, ",\"id\":%d,\"pid\":%d,\"state\":", d->id, (int) d->pid);
        json_print_string(out, d->paused ? "paused" : "running");
        fprintf(out, ",\"vcpus\":%u,\"memory_kib\":%" PRIu64, d->n_vcpus, d->memory_kib);
        json_threads(out, "vcpu_threads", "vcpu", d->vcpu_threads, d->n_vcpu_threads);
        json_threads(out, "iothreads", "iothread", d->iothreads, d->n_iothreads);
        fputs(",\"emulator_threads\":[", out);
        for (size_t i = 0; i < d->n_emulator_tids; i++)
                fprintf(out, "%s%d", i ? "," : "", (int) d->emulator_tids[i]);
        fputs("],\"cgroup_cpuset\":", out);
        json_print_string(out, d->cgroup_cpuset);
        fputs(",\"cgroup_memory\":", out);
        json_print_string(out, d->cgroup_memory);
        fputs(",\"cpus\":", out);
        json_print_string(out, cpus);
        fputs(",\"cpu_nodes\":[", out);
        for (unsigned node = 0; node < bitmap_size(&d->cpu_nodes); node++)
                if (bitmap_test(&d->cpu_nodes, node)) {
                        fprintf(out, "%s%u", sep, node);
                        sep = ",";
                }
        fputs("],\"memory_by_node\":[", out);
        sep = "";
        for (size_t node = 0; node < d->n_node_memory; node++)
                if (d->node_memory_kib[node] > 0) {
                        fprintf(out, "%s{\"node\":%zu,\"kib\":%" PRIu64 "}", sep, node, d->node_memory_kib[node]);
                        sep = ",";
                }
        fprintf(out, "],\"movable\":%s,\"reason\":", d->movable ? "true" : "false");
        json_print_string(out, d->reason);
        fputc('}', out);
}

void domains_print(FILE *out, const struct domain *d, size_t n, bool json)
{
        if (!json) {
                print_table(out, d, n);
                return;
        }
        fputc('[', out);
        for (size_t i = 0; i < n; i++) {
                fputs(i ? ",\n " : "", out);
                json_domain(out, &d[i]);
        }
        fputs("]\n", out);
}
