/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one place kernel files are read and written. Every path is relative
 * and resolves under a root prefix (--root, default "/"), so tests point the
 * daemon at a fixture tree and never touch the machine they run on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct kroot {
        int dirfd;       /* open O_PATH|O_DIRECTORY on the root prefix */
        char *path;      /* the prefix as given, for messages */
        bool dry_run;    /* --dry-run: kfile_write logs and writes nothing */
};

int kroot_open(const char *path, bool dry_run, struct kroot *ret);
/* Safe on a zeroed or already closed struct kroot (path == NULL). */
void kroot_close(struct kroot *r);

/* A relative path with no "..", "." or empty component and no leading '/'. */
bool kfile_path_valid(const char *relpath);

/* Paths are opened without O_NOFOLLOW (sys/block/X are symlinks into
 * sys/devices); kfile_path_valid() keeps them from climbing out.
 *
 * Read a kernel file: its contents trimmed, with runs of white space folded
 * to one space (sysctls such as tcp_rmem print tabs). -ENOENT if the knob
 * does not exist, -EINVAL for an invalid path, -E2BIG if it does not fit. */
int kfile_read(const struct kroot *r, const char *relpath, char *buf, size_t size);

/* Read a whole file unmodified (no trimming, lines kept: numa_maps,
 * /proc/PID/status, mountinfo) into a malloc'd string. -ENOENT also when
 * a /proc process went away while being read (ESRCH); -E2BIG above 64 MiB. */
int kfile_read_all(const struct kroot *r, const char *relpath, char **ret);

/* Read and, for a selector file ("always [madvise] never"), reduce to the
 * selected value; a plain file yields its trimmed contents. */
int kfile_read_value(const struct kroot *r, const char *relpath, char *buf, size_t size);

/* Write value (plus "\n") in one write(2). -errno from the kernel as is:
 * callers sort EINVAL/EBUSY and friends. In dry-run mode writes nothing. */
int kfile_write(const struct kroot *r, const char *relpath, const char *value);

/* Pure helpers, on buffers. */
/* "none [mq-deadline] kyber" -> "mq-deadline" in place; no brackets: unchanged. Returns buf. */
char *kfile_selected(char *buf);
/* Is word one of the choices in a selector line ("[none] mq-deadline kyber")? */
bool kfile_selector_offers(const char *line, const char *word);
/* Trim and fold white space in place. Returns buf. */
char *kfile_normalize(char *buf);
