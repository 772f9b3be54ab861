/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The /proc parsers of the domain table and the mover
 * (src/base/procparse.c, src/balance/move-memory.c): cpu and node lists,
 * /proc/PID/status, cgroup, mountinfo, numa_maps and maps, thread names.
 * Each sees the whole input; a NUL splits numa_maps from maps for the
 * mover. Properties: a list that parses formats to the kernel's shortest
 * spelling, which parses to the same set; extracted fields and cgroup
 * paths are pieces of the input; node numbers stay below the bound. */
#include <errno.h>

#include "balance/move.h"
#include "base/bitmap.h"
#include "base/procparse.h"
#include "fuzz.h"

static void check_list(const char *s)
{
        struct bitmap b = { 0 }, again = { 0 };
        char *text, *text2;
        unsigned size, count = 0;
        int r;

        r = bitmap_parse_list(s, &b);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r < 0)
                return;
        size = bitmap_size(&b);
        FUZZ_CHECK(size <= BITMAP_MAX_BIT + 1);
        for (unsigned i = 0; i < size; i++)
                count += bitmap_test(&b, i);
        FUZZ_CHECK(count == bitmap_count(&b) && (size == 0 || bitmap_test(&b, size - 1)));
        text = bitmap_format_list(&b);
        FUZZ_CHECK(bitmap_parse_list(text, &again) == 0 && bitmap_equal(&b, &again));
        text2 = bitmap_format_list(&again);
        FUZZ_CHECK(strcmp(text, text2) == 0);
        FUZZ_CHECK(bitmap_intersects(&b, &again) == (count > 0));
        free(text);
        free(text2);
        bitmap_done(&again);
        bitmap_done(&b);
}

/* Is piece a part of text? Mount points and roots have the kernel's
 * "\040" escapes decoded: in a text with a backslash, anything goes. */
static bool inside(const char *piece, const char *text)
{
        return strchr(text, '\\') || strstr(text, piece);
}

static void check_proc(const char *text)
{
        static const char *const keys[] = { "Cpus_allowed_list", "Mems_allowed_list", "Tgid" };
        static const char *const controllers[] = { "cpuset", "memory" };
        char *s, *root;
        uint64_t *kib = NULL;
        size_t n = 0;
        bool v2;
        int idx;

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (procparse_status_field(text, keys[i], &s) == 0) {
                        FUZZ_CHECK(inside(s, text));
                        free(s);
                }
        for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
                if (procparse_cgroup_path(text, controllers[i], &s, &v2) == 0) {
                        char *dom = procparse_domain_cgroup(s);

                        FUZZ_CHECK(inside(s, text));
                        /* The domain's cgroup is the thread's, or above it. */
                        FUZZ_CHECK(strncmp(dom, s, strlen(dom)) == 0);
                        free(dom);
                        free(s);
                }
                for (int v = 0; v < 2; v++)
                        if (procparse_cgroup_mount(text, controllers[i], v, &s, &root) == 0) {
                                FUZZ_CHECK(inside(s, text) && inside(root, text));
                                free(s);
                                free(root);
                        }
        }
        s = procparse_domain_cgroup(text);
        FUZZ_CHECK(strncmp(s, text, strlen(s)) == 0);
        free(s);
        if (procparse_numa_maps(text, &kib, &n) == 0) {
                FUZZ_CHECK(n <= 1024 && (n == 0) == !kib);
                free(kib);
        }
        switch (procparse_thread_comm(text, &idx)) {
        case THREAD_EMULATOR:
                FUZZ_CHECK(idx == -1);
                break;
        case THREAD_VCPU:
                FUZZ_CHECK(idx >= -1);
                break;
        case THREAD_IOTHREAD:
                FUZZ_CHECK(idx >= 0);
                break;
        }
}

static void check_ranges(const uint8_t *data, size_t size)
{
        char *numa_maps = fuzz_text(data, size);
        const char *maps = numa_maps;
        struct move_range *ranges = NULL;
        size_t n = 0, len = strlen(numa_maps);

        if (len < size)
                maps = numa_maps + len + 1;
        for (uint64_t mask = 1; mask; mask = mask == 1 ? 6 : mask == 6 ? ~UINT64_C(0) : 0)
                if (move_remote_ranges(numa_maps, maps, mask, &ranges, &n) == 0) {
                        for (size_t i = 0; i < n; i++)
                                FUZZ_CHECK(ranges[i].remote_pages > 0 && ranges[i].page_size >= 1024 &&
                                           ranges[i].page_size <= UINT64_C(16) << 30);
                        free(ranges);
                }
        free(numa_maps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);

        check_list(text);
        check_proc(text);
        free(text);
        check_ranges(data, size);
        return 0;
}
