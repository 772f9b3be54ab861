/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl verify`: for every target of the running profile, what the
 * profile wants, what the kernel holds now, the original from the rollback
 * journal, and who else sets the same sysctl at boot (sysctl.d).
 *
 * The decisions are pure functions on strings and buffers (verify_compare,
 * the sysctl.d parser and lookup), tested without a kernel; verify_run and
 * verify_sysctl_load are the only readers, and only under the root prefix. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct kroot;
struct rollback;
struct target_list;

enum verify_state {
        VERIFY_OK,       /* the kernel holds what the profile wants */
        VERIFY_ADJUSTED, /* it holds what the kernel made of our write (warned at apply): not drift */
        VERIFY_DRIFT,    /* it holds something else: changed since, or refused at apply */
        VERIFY_SKIPPED,  /* the knob does not exist on this kernel (or cannot be read) */
        _VERIFY_STATE_MAX,
};

const char *verify_state_to_string(enum verify_state s);

/* Pure. actual: the value read now (normalized, selector reduced), NULL if
 * the knob is missing. written: the value the rollback journal says vmtuned
 * wrote, NULL if it wrote none. only_if_greater: tuned's ">N" (a larger
 * actual value satisfies it, compared as whole numbers of any size). */
enum verify_state verify_compare(const char *desired, bool only_if_greater, const char *actual,
                                 const char *written);

/* --- sysctl.d ------------------------------------------------------------ */

/* One line of a sysctl.d file. */
struct sysctl_assignment {
        char *key;           /* in path form ("net/ipv4/tcp_rmem"), maybe a glob */
        char *value;         /* NULL: "-key" alone, which keeps globs off key */
        char *file;          /* as shown to the user: "/etc/sysctl.d/90-x.conf" */
        unsigned line;
        bool ignore_failure; /* "-key = value" */
};

/* Every assignment in boot order: files sorted by name, lines in order;
 * of several for one key, the last is the one the boot leaves. */
struct sysctl_conf {
        struct sysctl_assignment *v;
        size_t n;
};

/* Pure: a sysctl name as sysctl.d writes it, in path form (malloc'd). If
 * the first separator is '.', dots and slashes are interchanged
 * ("net.ipv4.conf.eth0/200.rp_filter" -> "net/ipv4/conf/eth0.200/rp_filter");
 * if it is '/', the name is in path form already. Then empty components
 * go (leading, trailing and doubled slashes), as in systemd-sysctl. */
char *verify_sysctl_path_form(const char *name);

/* Pure: append the assignments in one file's text, read the way
 * systemd-sysctl reads it: '#' and ';' comments, blank lines,
 * "key = value", '-' before the key. A line that is neither is ignored,
 * as systemd-sysctl does (with a warning); returns how many were. */
size_t verify_sysctl_parse(const char *text, const char *file, struct sysctl_conf *conf);

/* Pure: the assignments that set key (path form, not a glob) at boot, in
 * boot order, at most max of them in ret: the lines naming the key, if
 * any (none if the last of them is a "-key" exclusion); otherwise the glob
 * lines that match it. Returns how many there are (may exceed max). */
size_t verify_sysctl_lookup(const struct sysctl_conf *conf, const char *key,
                            const struct sysctl_assignment **ret, size_t max);

/* Read the sysctl.d files under root as systemd-sysctl does: *.conf in
 * etc/sysctl.d, run/sysctl.d, usr/local/lib/sysctl.d, usr/lib/sysctl.d
 * and lib/sysctl.d; of files with the same name the one in the earliest
 * directory of that list wins (/etc over /run over /usr/lib), and an empty
 * one or a link to /dev/null masks the others; all sorted by name. Then
 * etc/sysctl.conf, last, as `sysctl --system` reads it, unless it was
 * read already through a link (Debian's /etc/sysctl.d/99-sysctl.conf).
 * Unreadable files and directories are skipped: this is a report. */
void verify_sysctl_load(const struct kroot *root, struct sysctl_conf *ret);
void verify_sysctl_conf_free(struct sysctl_conf *conf);

/* --- the report ---------------------------------------------------------- */

#define VERIFY_MAX_CONFLICTS 8

struct verify_row {
        char *key;       /* "sysctl vm.swappiness" */
        char *path;      /* relative to the root prefix */
        char *desired;   /* as the profile says, ">N" included */
        char *actual;    /* NULL: missing or unreadable */
        char *original;  /* from the rollback journal; NULL: vmtuned wrote nothing here */
        char *source;    /* FILE:LINE; NULL: derived from an option */
        char *source_file; /* the same apart, for --json (target.h) */
        unsigned source_line;
        enum verify_state state;
        bool absent;     /* skipped: its file does not exist on this kernel (absent.h) */
        char *suggestion; /* for an absent sysctl: the existing key it may be a typo of; NULL: none */
        const struct sysctl_assignment *conflicts[VERIFY_MAX_CONFLICTS]; /* into the report's sysctl */
        size_t n_conflicts;
};

struct verify_report {
        struct verify_row *rows;
        size_t n_rows;
        unsigned count[_VERIFY_STATE_MAX]; /* rows per state */
        unsigned n_absent;                 /* skipped rows not on this kernel: verify fails on them */
        struct sysctl_conf sysctl;         /* owns what rows[].conflicts point to */
};

/* Read every target's file under root (rb: the rollback journal, may be
 * NULL) and compare. Never fails: a file that cannot be read is a
 * skipped row. */
void verify_run(const struct kroot *root, const struct rollback *rb, const struct target_list *targets,
                struct verify_report *ret);

/* The table, one "also set at boot by" line per conflict and a "not on
 * this kernel[; did you mean KEY?]" line under its row, and a summary line. */
void verify_report_print_text(FILE *out, const struct verify_report *r);

/* The members "counts":{...},"rows":[...] of a JSON object, without the
 * braces: the caller adds its own members around them. */
void verify_report_print_json(FILE *out, const struct verify_report *r);

void verify_report_free(struct verify_report *r);

