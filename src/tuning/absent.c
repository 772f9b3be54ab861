/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planned keys the running kernel does not offer (include/tuning/absent.h). */
#include "tuning/absent.h"

#include <dirent.h>

#include "base/kfile.h"
#include "base/suggest.h"
#include "base/util.h"
#include "tuning/target.h"

#define SYSCTL_KEY_PREFIX "sysctl "
#define SYSCTL_PATH_PREFIX "proc/sys/"

bool target_absent(const struct kroot *root, const struct target *t)
{
        int r = kfile_access(root, t->path);

        return r == -ENOENT || r == -ENOTDIR;
}

static bool is_file(const struct kroot *root, const char *dir, const struct dirent *de)
{
        _cleanup_free_ char *rel = NULL;
        struct stat st;

        if (de->d_type != DT_UNKNOWN)
                return de->d_type != DT_DIR;
        rel = xasprintf("%s/%s", dir, de->d_name);
        return kfile_stat(root, rel, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The sysctls of one directory under proc/sys, as keys: prefix (the key's
 * directory part with its dot, "vm.") + file name. A name with a dot in it
 * cannot be written as a key component: left out. */
static char **list_sysctls(const struct kroot *root, const char *dir, const char *prefix, size_t *ret_n)
{
        char **keys = NULL;
        struct dirent *de;
        size_t n = 0;
        DIR *d;

        *ret_n = 0;
        if (kfile_opendir(root, dir, &d) < 0)
                return NULL;
        while ((de = readdir(d))) {
                if (strchr(de->d_name, '.') || !is_file(root, dir, de))
                        continue;
                keys = xreallocarray(keys, n + 1, sizeof(*keys));
                keys[n++] = xasprintf("%s%s", prefix, de->d_name);
        }
        closedir(d);
        *ret_n = n;
        return keys;
}

char *target_suggest(const struct kroot *root, const struct target *t)
{
        const char *key, *last_dot, *last_slash, *near;
        _cleanup_free_ char *dir = NULL, *prefix = NULL;
        char *ret = NULL, **keys;
        size_t n;

        if (!startswith(t->key, SYSCTL_KEY_PREFIX) || !startswith(t->path, SYSCTL_PATH_PREFIX))
                return NULL;
        key = t->key + strlen(SYSCTL_KEY_PREFIX);
        last_dot = strrchr(key, '.');
        last_slash = strrchr(t->path, '/');
        /* The file plan.c derived from the key: proc/sys/vm/swapiness for
         * vm.swapiness; its directory holds the candidates. */
        dir = xasprintf("%.*s", (int) (last_slash - t->path), t->path);
        prefix = last_dot ? xasprintf("%.*s", (int) (last_dot - key + 1), key) : xstrdup("");
        keys = list_sysctls(root, dir, prefix, &n);
        near = suggest_nearest(key, (const char *const *) keys, n);
        if (near)
                ret = xstrdup(near);
        for (size_t i = 0; i < n; i++)
                free(keys[i]);
        free(keys);
        return ret;
}

char *target_absent_message(const struct target *t, const char *suggestion)
{
        const char *space = strchr(t->key, ' ');
        _cleanup_free_ char *where = t->source ? xasprintf("%s: ", t->source) : xstrdup("");
        _cleanup_free_ char *hint = suggestion ? xasprintf("; did you mean %s?", suggestion) : xstrdup("");

        if (!space)
                return xasprintf("%s%s: not on this kernel%s", where, t->key, hint);
        return xasprintf("%s[%.*s] %s: not on this kernel%s", where, (int) (space - t->key), t->key, space + 1,
                         hint);
}
