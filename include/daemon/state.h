/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the daemon keeps across restarts: the profile chosen with
 * `vmtunectl profile NAME`, in STATE_DIR/active_profile (tuned keeps its
 * choice the same way). The file is two lines:
 *
 *     NAME       the chosen profile
 *     BASE       the profile vmtuned would have run without the choice
 *                (--profile, else the configuration's profile=) when NAME
 *                was chosen
 *
 * The choice lasts while BASE is still what the command line and the
 * configuration say: an administrator who edits profile= later (or starts
 * with another --profile) has the last word, and the stale choice is
 * removed. A file of one line (written by hand, as tuned's is) has no BASE
 * and lasts until `vmtunectl profile --reset`.
 *
 * The file is outside input: read with a size limit, both names checked
 * with profile_name_valid(), refused when it is not a regular file owned
 * by us and writable by nobody else. Written atomically (a temporary file
 * created O_EXCL, fsync, rename, fsync of the directory). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define STATE_DEFAULT_DIR "/var/lib/vmtuned"
#define STATE_PROFILE_FILE "active_profile"
/* Two names of at most NAME_MAX bytes and their newlines fit. */
#define STATE_PROFILE_MAX 512

/* Who chose the running profile (vmtunectl status says). */
enum profile_source {
        PROFILE_SOURCE_DEFAULT,       /* built-in default: no configuration file */
        PROFILE_SOURCE_CONFIG,        /* the configuration file's profile= */
        PROFILE_SOURCE_COMMAND_LINE,  /* vmtuned --profile */
        PROFILE_SOURCE_PERSISTED,     /* vmtunectl profile NAME, saved in the state file */
        PROFILE_SOURCE_UNSAVED,       /* vmtunectl profile NAME, not saved (dry run, write failed) */
};

struct state_profile {
        char *name;
        char *base;     /* NULL: a one-line file */
};

/* Parse the file's text (buf need not be NUL-terminated). -EINVAL for
 * anything but one or two valid profile names, each on its line; -EFBIG
 * above STATE_PROFILE_MAX. On error *ret is untouched. */
int state_profile_parse(const char *buf, size_t len, struct state_profile *ret);

/* The file's text for a choice; base may be NULL. Free it. */
char *state_profile_format(const char *name, const char *base);

/* Does the saved choice still apply when vmtuned would now run base? */
bool state_profile_applies(const struct state_profile *s, const char *base);

void state_profile_clear(struct state_profile *s);

/* DIR/active_profile; free it. */
char *state_profile_path(const char *dir);

/* Read DIR/active_profile: 1 with *ret filled, 0 when there is none, or
 * -errno: -EINVAL bad content, -EFBIG too large, -EPERM not a regular file
 * of ours that only we may write, -ELOOP a symlink. */
int state_profile_read(const char *dir, struct state_profile *ret);

/* Why state_profile_read refused the file, for a log line. */
const char *state_profile_strerror(int r);

/* Save the choice atomically; DIR is created (0755) if missing. */
int state_profile_write(const char *dir, const char *name, const char *base);

/* Forget the choice: 1 removed, 0 there was none, -errno. */
int state_profile_remove(const char *dir);

/* For status and logs: "command line", "vmtunectl profile (persisted in
 * FILE)", "configuration file FILE", "built-in default", ... Free it. */
char *profile_source_describe(enum profile_source source, const char *config_file, const char *state_dir,
                              bool dry_run);

/* For status --json: "command-line", "vmtunectl", "configuration-file",
 * "built-in-default". */
const char *profile_source_to_string(enum profile_source source);
