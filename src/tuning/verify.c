/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl verify` (see include/tuning/verify.h): compare, read sysctl.d the
 * way systemd-sysctl does, and print the report. */
#include "tuning/verify.h"
#include "base/json.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include "base/kfile.h"
#include "tuning/absent.h"
#include "tuning/rollback.h"
#include "tuning/target.h"
#include "base/util.h"

static const char *const state_names[_VERIFY_STATE_MAX] = {
        [VERIFY_OK] = "ok",
        [VERIFY_ADJUSTED] = "adjusted",
        [VERIFY_DRIFT] = "drift",
        [VERIFY_SKIPPED] = "skipped",
};

const char *verify_state_to_string(enum verify_state s)
{
        return s < _VERIFY_STATE_MAX ? state_names[s] : "?";
}

/* --- comparing ----------------------------------------------------------- */

/* Not numbers under ">N": apply skipped it too ("not a number to compare with"). */
static bool satisfied(const char *desired, bool only_if_greater, const char *actual)
{
        return target_value_satisfied(actual, desired, only_if_greater) > 0;
}

enum verify_state verify_compare(const char *desired, bool only_if_greater, const char *actual,
                                 const char *written)
{
        if (!actual)
                return VERIFY_SKIPPED;
        if (satisfied(desired, only_if_greater, actual))
                return VERIFY_OK;
        /* settings_apply (apply.h) records what the kernel made of a write it
         * adjusted: that is the value we left, not someone else's. */
        if (written && streq(actual, written))
                return VERIFY_ADJUSTED;
        return VERIFY_DRIFT;
}

/* --- sysctl.d: parsing (pure) ------------------------------------------- */

char *verify_sysctl_path_form(const char *name)
{
        char *s = xstrdup(name), *p = strpbrk(s, "/."), *w = s;

        if (p && *p == '.')
                for (; p; p = strpbrk(p + 1, "/."))
                        *p = *p == '.' ? '/' : '.';
        /* Then, as systemd's path_simplify, no empty components: ".a..b"
         * is "a/b", as "/a//b" is. */
        for (const char *r = s; *r; r++)
                if (*r != '/' || (w > s && w[-1] != '/'))
                        *w++ = *r;
        if (w > s && w[-1] == '/')
                w--;
        *w = '\0';
        return s;
}

static char *strip(char *s)
{
        char *end;

        while (isspace((unsigned char) *s))
                s++;
        end = s + strlen(s);
        while (end > s && isspace((unsigned char) end[-1]))
                *--end = '\0';
        return s;
}

static void conf_add(struct sysctl_conf *conf, const char *key, const char *value, const char *file,
                     unsigned line, bool ignore_failure)
{
        conf->v = xreallocarray(conf->v, conf->n + 1, sizeof(*conf->v));
        conf->v[conf->n++] = (struct sysctl_assignment){
                .key = verify_sysctl_path_form(key),
                .value = value ? xstrdup(value) : NULL,
                .file = xstrdup(file),
                .line = line,
                .ignore_failure = ignore_failure,
        };
}

/* One line, already stripped and not a comment. false: not an assignment. */
static bool parse_line(char *p, const char *file, unsigned line, struct sysctl_conf *conf)
{
        char *eq = strchr(p, '='), *value = NULL;
        bool dash = p[0] == '-';

        if (dash)
                p++;
        if (eq) {
                *eq = '\0';
                value = strip(eq + 1);
        } else if (!dash) {
                return false;
        }
        p = strip(p);
        if (!*p)
                return false;
        /* "-key" without a value is an exclusion, not an assignment that may fail. */
        conf_add(conf, p, value, file, line, dash && value);
        return true;
}

size_t verify_sysctl_parse(const char *text, const char *file, struct sysctl_conf *conf)
{
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL, *l;
        unsigned line = 0;
        size_t bad = 0;

        /* strtok_r would skip empty lines and miscount; walk by hand. */
        for (l = copy; l; l = save) {
                char *nl = strchr(l, '\n'), *p;

                save = nl ? nl + 1 : NULL;
                if (nl)
                        *nl = '\0';
                line++;
                p = strip(l);
                if (!*p || *p == '#' || *p == ';')
                        continue;
                if (!parse_line(p, file, line, conf))
                        bad++;
        }
        return bad;
}

static bool is_glob(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

size_t verify_sysctl_lookup(const struct sysctl_conf *conf, const char *key,
                            const struct sysctl_assignment **ret, size_t max)
{
        const struct sysctl_assignment *last = NULL;
        size_t n = 0;

        /* systemd-sysctl keeps one entry per name, the last line's; a glob
         * skips every name that has an entry, exclusion or not. */
        for (size_t i = 0; i < conf->n; i++)
                if (!is_glob(conf->v[i].key) && streq(conf->v[i].key, key))
                        last = &conf->v[i];
        if (last) {
                if (!last->value)
                        return 0;
                for (size_t i = 0; i < conf->n; i++)
                        if (conf->v[i].value && !is_glob(conf->v[i].key) && streq(conf->v[i].key, key)) {
                                if (n < max)
                                        ret[n] = &conf->v[i];
                                n++;
                        }
                return n;
        }
        for (size_t i = 0; i < conf->n; i++)
                if (conf->v[i].value && is_glob(conf->v[i].key) &&
                    fnmatch(conf->v[i].key, key, FNM_PATHNAME) == 0) {
                        if (n < max)
                                ret[n] = &conf->v[i];
                        n++;
                }
        return n;
}

void verify_sysctl_conf_free(struct sysctl_conf *conf)
{
        for (size_t i = 0; i < conf->n; i++) {
                free(conf->v[i].key);
                free(conf->v[i].value);
                free(conf->v[i].file);
        }
        free(conf->v);
        *conf = (struct sysctl_conf){};
}

/* --- sysctl.d: reading under the root prefix ------------------------------ */

static const char *const sysctl_dirs[] = {
        "etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d", "lib/sysctl.d",
};

struct conf_file {
        char *name;
        const char *dir; /* the first of sysctl_dirs[] holding it */
};

static bool has_conf_suffix(const char *name)
{
        size_t len = strlen(name);

        return len > 5 && streq(name + len - 5, ".conf") && name[0] != '.';
}

static void list_dir(const struct kroot *root, const char *dir, struct conf_file **files, size_t *n)
{
        struct dirent *de;
        DIR *d;

        if (kfile_opendir(root, dir, &d) < 0)
                return;
        while ((de = readdir(d))) {
                bool seen = false;

                if (!has_conf_suffix(de->d_name))
                        continue;
                for (size_t i = 0; i < *n && !seen; i++)
                        seen = streq((*files)[i].name, de->d_name);
                if (seen)
                        continue; /* a directory earlier in the list has it: that one wins */
                *files = xreallocarray(*files, *n + 1, sizeof(**files));
                (*files)[(*n)++] = (struct conf_file){ .name = xstrdup(de->d_name), .dir = dir };
        }
        closedir(d);
}

static int cmp_files(const void *a, const void *b)
{
        return strcmp(((const struct conf_file *) a)->name, ((const struct conf_file *) b)->name);
}

struct seen_inodes {
        struct stat *v;
        size_t n;
};

/* Parse one file unless it is masked (empty, /dev/null) or read already. */
static void load_file(const struct kroot *root, const char *rel, struct seen_inodes *seen,
                      struct sysctl_conf *conf)
{
        _cleanup_free_ char *text = NULL, *shown = NULL;
        struct stat st;

        if (kfile_stat(root, rel, &st) < 0)
                return;
        if (!S_ISREG(st.st_mode) || st.st_size == 0)
                return;
        for (size_t i = 0; i < seen->n; i++)
                if (seen->v[i].st_dev == st.st_dev && seen->v[i].st_ino == st.st_ino)
                        return;
        seen->v = xreallocarray(seen->v, seen->n + 1, sizeof(*seen->v));
        seen->v[seen->n++] = st;
        if (kfile_read_all(root, rel, &text) < 0)
                return;
        shown = xasprintf("/%s", rel);
        (void) verify_sysctl_parse(text, shown, conf);
}

void verify_sysctl_load(const struct kroot *root, struct sysctl_conf *ret)
{
        struct sysctl_conf conf = {};
        struct seen_inodes seen = {};
        struct conf_file *files = NULL;
        size_t n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(sysctl_dirs); i++)
                list_dir(root, sysctl_dirs[i], &files, &n);
        if (n > 0)
                qsort(files, n, sizeof(*files), cmp_files);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *rel = xasprintf("%s/%s", files[i].dir, files[i].name);

                load_file(root, rel, &seen, &conf);
                free(files[i].name);
        }
        load_file(root, "etc/sysctl.conf", &seen, &conf);
        free(files);
        free(seen.v);
        *ret = conf;
}

/* --- the report ---------------------------------------------------------- */

static void row_fill(const struct kroot *root, const struct rollback *rb, const struct target *t,
                     const struct sysctl_conf *sysctl, struct verify_row *row)
{
        _cleanup_free_ char *desired = kfile_normalize(xstrdup(t->value));
        const struct rollback_entry *e = rb ? rollback_find(rb, t->path) : NULL;
        char actual[KFILE_VALUE_MAX];

        *row = (struct verify_row){
                .key = xstrdup(t->key),
                .path = xstrdup(t->path),
                .desired = t->only_if_greater ? xasprintf(">%s", desired) : xstrdup(desired),
                .original = e ? xstrdup(e->original) : NULL,
                .source = t->source ? xstrdup(t->source) : NULL,
                .source_file = t->source_file ? xstrdup(t->source_file) : NULL,
                .source_line = t->source_line,
        };
        if (kfile_read_value(root, t->path, actual, sizeof(actual)) >= 0)
                row->actual = xstrdup(actual);
        row->state = verify_compare(desired, t->only_if_greater, row->actual, e ? e->written : NULL);
        if (!row->actual && target_absent(root, t)) {
                row->absent = true;
                row->suggestion = target_suggest(root, t);
        }
        if (startswith(t->path, "proc/sys/")) {
                size_t n = verify_sysctl_lookup(sysctl, t->path + strlen("proc/sys/"), row->conflicts,
                                                VERIFY_MAX_CONFLICTS);
                row->n_conflicts = n < VERIFY_MAX_CONFLICTS ? n : VERIFY_MAX_CONFLICTS;
        }
}

void verify_run(const struct kroot *root, const struct rollback *rb, const struct target_list *targets,
                struct verify_report *ret)
{
        struct verify_report r = {};

        verify_sysctl_load(root, &r.sysctl);
        r.rows = xcalloc(targets->n, sizeof(*r.rows));
        for (size_t i = 0; i < targets->n; i++) {
                row_fill(root, rb, &targets->v[i], &r.sysctl, &r.rows[i]);
                r.count[r.rows[i].state]++;
                r.n_absent += r.rows[i].absent;
        }
        r.n_rows = targets->n;
        *ret = r;
}

void verify_report_free(struct verify_report *r)
{
        for (size_t i = 0; i < r->n_rows; i++) {
                struct verify_row *row = &r->rows[i];

                free(row->key);
                free(row->path);
                free(row->desired);
                free(row->actual);
                free(row->original);
                free(row->source);
                free(row->source_file);
                free(row->suggestion);
        }
        free(r->rows);
        verify_sysctl_conf_free(&r->sysctl);
        *r = (struct verify_report){};
}

enum { COL_KEY, COL_DESIRED, COL_ACTUAL, COL_ORIGINAL, COL_STATE, COL_SOURCE, N_COLUMNS };

static const char *const headers[N_COLUMNS] = { "KEY", "DESIRED", "ACTUAL", "ORIGINAL", "STATE", "SOURCE" };

static void row_cells(const struct verify_row *row, const char **cells)
{
        cells[COL_KEY] = row->key;
        cells[COL_DESIRED] = row->desired;
        cells[COL_ACTUAL] = row->actual ? row->actual : "(missing)";
        cells[COL_ORIGINAL] = row->original ? row->original : "-";
        cells[COL_STATE] = verify_state_to_string(row->state);
        cells[COL_SOURCE] = row->source ? row->source : "-";
}

static void print_line(FILE *out, const char *const *cells, const size_t *width)
{
        for (size_t c = 0; c + 1 < N_COLUMNS; c++)
                fprintf(out, "%-*s  ", (int) width[c], cells[c]);
        fprintf(out, "%s\n", cells[N_COLUMNS - 1]);
}

void verify_report_print_text(FILE *out, const struct verify_report *r)
{
        size_t width[N_COLUMNS];
        const char *cells[N_COLUMNS];

        for (size_t c = 0; c < N_COLUMNS; c++)
                width[c] = strlen(headers[c]);
        for (size_t i = 0; i < r->n_rows; i++) {
                row_cells(&r->rows[i], cells);
                for (size_t c = 0; c < N_COLUMNS; c++)
                        if (strlen(cells[c]) > width[c])
                                width[c] = strlen(cells[c]);
        }
        print_line(out, headers, width);
        for (size_t i = 0; i < r->n_rows; i++) {
                const struct verify_row *row = &r->rows[i];

                row_cells(row, cells);
                print_line(out, cells, width);
                for (size_t k = 0; k < row->n_conflicts; k++)
                        fprintf(out, "    also set at boot by %s:%u: %s = %s\n", row->conflicts[k]->file,
                                row->conflicts[k]->line, row->key + (startswith(row->key, "sysctl ") ? 7 : 0),
                                row->conflicts[k]->value);
                if (row->absent)
                        fprintf(out, "    not on this kernel%s%s%s\n", row->suggestion ? "; did you mean " : "",
                                row->suggestion ? row->suggestion : "", row->suggestion ? "?" : "");
        }
        fprintf(out, "%u ok, %u drifted, %u adjusted by the kernel, %u skipped (%u not on this kernel)\n",
                r->count[VERIFY_OK], r->count[VERIFY_DRIFT], r->count[VERIFY_ADJUSTED], r->count[VERIFY_SKIPPED],
                r->n_absent);
}

static void json_member(FILE *out, const char *sep, const char *name, const char *value)
{
        fprintf(out, "%s\"%s\":", sep, name);
        json_print_string(out, value);
}

static void json_row(FILE *out, const struct verify_row *row)
{
        json_member(out, "{", "key", row->key);
        json_member(out, ",", "path", row->path);
        json_member(out, ",", "desired", row->desired);
        json_member(out, ",", "actual", row->actual);
        json_member(out, ",", "original", row->original);
        json_member(out, ",", "state", verify_state_to_string(row->state));
        fputs(",\"source\":", out);
        json_print_source(out, row->source_file, row->source_line);
        fputs(",\"conflicts\":[", out);
        for (size_t k = 0; k < row->n_conflicts; k++) {
                fputs(k ? ",{\"source\":" : "{\"source\":", out);
                json_print_source(out, row->conflicts[k]->file, row->conflicts[k]->line);
                json_member(out, ",", "value", row->conflicts[k]->value);
                fputc('}', out);
        }
        fprintf(out, "],\"not_on_this_kernel\":%s", row->absent ? "true" : "false");
        json_member(out, ",", "did_you_mean", row->suggestion);
        fputs("}", out);
}

void verify_report_print_json(FILE *out, const struct verify_report *r)
{
        fputs("\"counts\":{", out);
        for (int s = 0; s < _VERIFY_STATE_MAX; s++)
                fprintf(out, "%s\"%s\":%u", s ? "," : "", state_names[s], r->count[s]);
        fprintf(out, ",\"not_on_this_kernel\":%u},\"rows\":[", r->n_absent);
        for (size_t i = 0; i < r->n_rows; i++) {
                fputs(i ? ",\n " : "\n ", out);
                json_row(out, &r->rows[i]);
        }
        fputs("]", out);
}
