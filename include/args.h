/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line, as main() hands it to the daemon. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define VMTUNED_VERSION "0.1.0"

/* Exit codes, documented in vmtuned(8). */
enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1, /* failed while running (journal not writable, ...) */
        EXIT_CONFIG = 2,  /* bad command line, configuration or profile */
};

/* What the command line says; never changed after start. */
struct args {
        const char *config_file;    /* --config; NULL: the default, optional */
        const char *root;           /* --root, default "/" */
        const char *runtime_dir;    /* --runtime-dir, default /run/vmtuned */
        const char *state_dir;      /* --state-dir, default /var/lib/vmtuned (state.h) */
        /* The profile search path: each --profile-dir in order, or without
         * one profile_default_dirs (profile.h); never empty. */
        const char **profile_dirs;
        size_t n_profile_dirs;
        const char *profile;        /* --profile: overrides the config's profile= */
        bool dry_run;
        bool foreground;
        bool check_config;
        bool strict;                /* --strict: --check-config fails on a key not on this kernel */
};
