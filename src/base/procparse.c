/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/procparse.h"

#include <ctype.h>
#include <stdio.h>

#include "base/util.h"

/* MAX_NUMNODES is at most 1024 in every kernel config. */
#define NUMA_MAX_NODE 1023u

static int parse_uint(const char **p, unsigned max, unsigned *ret)
{
        unsigned long v = 0;
        const char *s = *p;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        for (; isdigit((unsigned char) *s); s++) {
                v = v * 10 + (unsigned long) (*s - '0');
                if (v > max)
                        return -ERANGE;
        }
        *p = s;
        *ret = (unsigned) v;
        return 0;
}

/* --- line helpers ---------------------------------------------------- */

/* Walk buf line by line: *line and *len are the next line, without '\n'. */
static bool next_line(const char **cursor, const char **line, size_t *len)
{
        const char *p = *cursor;

        if (!*p)
                return false;
        *line = p;
        *len = strcspn(p, "\n");
        *cursor = p[*len] ? p + *len + 1 : p + *len;
        return true;
}

static char *strndup_trimmed(const char *s, size_t len)
{
        while (len > 0 && isspace((unsigned char) *s)) {
                s++;
                len--;
        }
        while (len > 0 && isspace((unsigned char) s[len - 1]))
                len--;
        return strndup(s, len) ?: xstrdup("");
}

/* Is word one of the comma separated items in list[0..len)? */
static bool list_contains(const char *list, size_t len, const char *word)
{
        size_t wlen = strlen(word);

        while (len > 0) {
                size_t item = 0;

                while (item < len && list[item] != ',')
                        item++;
                if (item == wlen && strncmp(list, word, wlen) == 0)
                        return true;
                if (item == len)
                        break;
                list += item + 1;
                len -= item + 1;
        }
        return false;
}

/* --- /proc/PID/status, /proc/PID/cgroup ------------------------------- */

int procparse_status_field(const char *buf, const char *key, char **ret)
{
        size_t klen = strlen(key);
        const char *cursor = buf, *line;
        size_t len;

        while (next_line(&cursor, &line, &len))
                if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == ':') {
                        *ret = strndup_trimmed(line + klen + 1, len - klen - 1);
                        return 0;
                }
        return -ENOENT;
}

int procparse_cgroup_path(const char *buf, const char *controller, char **ret_path, bool *ret_v2)
{
        const char *cursor = buf, *line, *v2 = NULL;
        size_t len, v2_len = 0;

        while (next_line(&cursor, &line, &len)) {
                const char *c1 = memchr(line, ':', len), *c2;

                if (!c1)
                        continue;
                c2 = memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - line));
                if (!c2)
                        continue;
                if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
                        v2 = c2 + 1;
                        v2_len = len - (size_t) (v2 - line);
                        continue;
                }
                if (list_contains(c1 + 1, (size_t) (c2 - c1 - 1), controller)) {
                        *ret_path = strndup_trimmed(c2 + 1, len - (size_t) (c2 + 1 - line));
                        *ret_v2 = false;
                        return 0;
                }
        }
        if (!v2)
                return -ENOENT;
        *ret_path = strndup_trimmed(v2, v2_len);
        *ret_v2 = true;
        return 0;
}

/* --- /proc/self/mountinfo -------------------------------------------- */

/* Copy one space separated field, decoding the kernel's "\040" escapes. */
static char *mountinfo_unescape(const char *s, size_t len)
{
        char *r = xcalloc(len + 1, 1), *w = r;

        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *w++ = (char) ((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
                        i += 3;
                } else
                        *w++ = s[i];
        }
        return r;
}

/* Split a line into at most max space separated fields. */
static size_t split_fields(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
        size_t n = 0, i = 0;

        while (i < len && n < max) {
                while (i < len && line[i] == ' ')
                        i++;
                if (i == len)
                        break;
                f[n] = line + i;
                while (i < len && line[i] != ' ')
                        i++;
                flen[n] = (size_t) (line + i - f[n]);
                n++;
        }
        return n;
}

int procparse_cgroup_mount(const char *buf, const char *controller, bool v2,
                           char **ret_mount_point, char **ret_root)
{
        const char *cursor = buf, *line;
        size_t len;

        while (next_line(&cursor, &line, &len)) {
                /* id parent maj:min root mount-point options [optional...] - fstype source super-options */
                const char *f[64];
                size_t flen[64], n, sep;

                n = split_fields(line, len, f, flen, ARRAY_SIZE(f));
                for (sep = 6; sep < n; sep++)
                        if (flen[sep] == 1 && f[sep][0] == '-')
                                break;
                if (sep + 3 >= n)
                        continue;
                if (v2) {
                        if (flen[sep + 1] != 7 || strncmp(f[sep + 1], "cgroup2", 7) != 0)
                                continue;
                } else {
                        if (flen[sep + 1] != 6 || strncmp(f[sep + 1], "cgroup", 6) != 0)
                                continue;
                        if (!list_contains(f[sep + 3], flen[sep + 3], controller))
                                continue;
                }
                *ret_mount_point = mountinfo_unescape(f[4], flen[4]);
                *ret_root = mountinfo_unescape(f[3], flen[3]);
                return 0;
        }
        return -ENOENT;
}

/* --- cgroup layout of a libvirt domain ------------------------------- */

static bool is_name_with_number(const char *s, size_t len, const char *prefix)
{
        size_t plen = strlen(prefix);

        if (len <= plen || strncmp(s, prefix, plen) != 0)
                return false;
        for (size_t i = plen; i < len; i++)
                if (!isdigit((unsigned char) s[i]))
                        return false;
        return true;
}

/* Length of path without its last component ("/a/b" -> 2), if that
 * component matches; otherwise len unchanged. */
static size_t strip_component(const char *path, size_t len, bool (*match)(const char *, size_t))
{
        size_t slash = len;

        while (slash > 0 && path[slash - 1] != '/')
                slash--;
        if (slash == 0 || !match(path + slash, len - slash))
                return len;
        /* Keep "/" itself for a thread directly below the root. */
        return slash - 1 > 0 ? slash - 1 : 1;
}

static bool is_thread_dir(const char *s, size_t len)
{
        return (len == 8 && strncmp(s, "emulator", 8) == 0) ||
               is_name_with_number(s, len, "vcpu") || is_name_with_number(s, len, "iothread");
}

static bool is_libvirt_dir(const char *s, size_t len)
{
        return len == 7 && strncmp(s, "libvirt", 7) == 0;
}

char *procparse_domain_cgroup(const char *thread_path)
{
        size_t len = strlen(thread_path), stripped;

        stripped = strip_component(thread_path, len, is_thread_dir);
        if (stripped != len)
                stripped = strip_component(thread_path, stripped, is_libvirt_dir);
        return strndup(thread_path, stripped) ?: xstrdup("");
}

/* --- /proc/PID/numa_maps --------------------------------------------- */

/* The value of "key=N" among the words of one line, or -1. */
static long long line_value(const char *line, size_t len, const char *key)
{
        size_t klen = strlen(key);

        for (size_t i = 0; i + klen < len; i++)
                if ((i == 0 || line[i - 1] == ' ') && strncmp(line + i, key, klen) == 0 &&
                    isdigit((unsigned char) line[i + klen]))
                        return strtoll(line + i + klen, NULL, 10);
        return -1;
}

bool procparse_numa_maps_private(const char *line, size_t len)
{
        return line_value(line, len, "mapmax=") < 0;
}

/* Digits in base 10 or 16 from *p, not past end: at least one, the value
 * at most max (-ERANGE). *p moves past them. */
static int parse_digits(const char **p, const char *end, unsigned base, uint64_t max, uint64_t *ret)
{
        const char *q = *p;
        uint64_t v = 0;

        for (; q < end && (base == 16 ? isxdigit((unsigned char) *q) : isdigit((unsigned char) *q)); q++) {
                unsigned digit = isdigit((unsigned char) *q) ? (unsigned) (*q - '0')
                                                             : (unsigned) ((*q | 0x20) - 'a' + 10);

                if (v > (max - digit) / base)
                        return -ERANGE;
                v = v * base + digit;
        }
        if (q == *p)
                return -EINVAL;
        *p = q;
        *ret = v;
        return 0;
}

/* "N<node>=<pages>" from p (after the 'N') to the end of the word. */
static int numa_maps_node(const char *p, const char *end, struct numa_maps_line *l)
{
        uint64_t node, pages;
        int r;

        r = parse_digits(&p, end, 10, NUMA_MAX_NODE, &node);
        if (r < 0)
                return r;
        if (p == end || *p++ != '=' || parse_digits(&p, end, 10, UINT64_MAX, &pages) < 0 || p != end)
                return -EINVAL;
        if (node >= l->n_nodes) {
                if (node >= l->cap) {
                        l->cap = node + 1;
                        l->pages = xreallocarray(l->pages, l->cap, sizeof(uint64_t));
                }
                memset(l->pages + l->n_nodes, 0, (node + 1 - l->n_nodes) * sizeof(uint64_t));
                l->n_nodes = node + 1;
        }
        l->pages[node] += pages;
        return 0;
}

int procparse_numa_maps_line(const char *line, size_t len, struct numa_maps_line *l)
{
        static const char page_key[] = "kernelpagesize_kB=";
        const size_t page_len = sizeof(page_key) - 1;
        const char *end = line + len, *p = line, *w, *wend;
        uint64_t start;
        int r;

        if (parse_digits(&p, end, 16, UINT64_MAX, &start) < 0 || p == end || *p != ' ')
                return -EINVAL;
        /* The pages array stays, for the next line to reuse. */
        *l = (struct numa_maps_line){ .start = start, .page_kib = 4, .pages = l->pages, .cap = l->cap,
                                      .private = procparse_numa_maps_private(line, len) };
        for (w = p + 1; w < end; w = wend + 1) {
                wend = memchr(w, ' ', (size_t) (end - w)) ?: end;
                if ((size_t) (wend - w) > page_len && strncmp(w, page_key, page_len) == 0) {
                        const char *q = w + page_len;

                        /* No page is larger than 16 GiB (ppc64); a size that
                         * wraps to 0 in bytes would never advance the mover. */
                        if (parse_digits(&q, wend, 10, 16u << 20, &l->page_kib) < 0 || q != wend ||
                            l->page_kib == 0)
                                return -EINVAL;
                } else if (wend - w > 1 && w[0] == 'N' && isdigit((unsigned char) w[1])) {
                        r = numa_maps_node(w + 1, wend, l);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

void procparse_numa_maps_line_done(struct numa_maps_line *l)
{
        free(l->pages);
        *l = (struct numa_maps_line){ 0 };
}

int procparse_numa_maps(const char *buf, uint64_t **ret_kib, size_t *ret_n)
{
        _cleanup_(procparse_numa_maps_line_done) struct numa_maps_line l = { 0 };
        _cleanup_free_ uint64_t *kib = NULL;
        const char *cursor = buf, *line;
        size_t len, n = 0;
        int r;

        while (next_line(&cursor, &line, &len)) {
                if (len == 0)
                        continue;
                r = procparse_numa_maps_line(line, len, &l);
                if (r < 0)
                        return r;
                if (!l.private)
                        continue;
                if (l.n_nodes > n) {
                        kib = xreallocarray(kib, l.n_nodes, sizeof(uint64_t));
                        memset(kib + n, 0, (l.n_nodes - n) * sizeof(uint64_t));
                        n = l.n_nodes;
                }
                for (size_t node = 0; node < l.n_nodes; node++)
                        kib[node] += l.pages[node] * l.page_kib;
        }
        *ret_kib = TAKE_PTR(kib);
        *ret_n = n;
        return 0;
}

/* --- QEMU thread names ----------------------------------------------- */

enum thread_kind procparse_thread_comm(const char *comm, int *ret_index)
{
        const char *p;
        unsigned n;

        if (startswith(comm, "ALL CPUs/")) {
                /* Single-threaded TCG: one thread runs every vCPU. */
                *ret_index = -1;
                return THREAD_VCPU;
        }
        p = comm + strlen("CPU ");
        if (startswith(comm, "CPU ") && parse_uint(&p, INT32_MAX, &n) == 0 && *p == '/') {
                *ret_index = (int) n;
                return THREAD_VCPU;
        }
        p = comm + strlen("IO iothread");
        if (startswith(comm, "IO iothread") && parse_uint(&p, INT32_MAX, &n) == 0 &&
            (*p == '\0' || isspace((unsigned char) *p))) {
                *ret_index = (int) n;
                return THREAD_IOTHREAD;
        }
        *ret_index = -1;
        return THREAD_EMULATOR;
}
