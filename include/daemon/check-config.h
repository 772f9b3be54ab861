/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtuned --check-config [--strict]` (src/daemon/check-config.c): load the
 * configuration and profile as a start would, print the resolved settings
 * and this host's plan, warn about every planned key not on this kernel,
 * and change nothing. */
#pragma once

struct args;

/* Exit status of --check-config --strict when a planned key is not on this
 * kernel (vmtuned(8)); the configuration itself loads. */
#define CHECK_CONFIG_EXIT_NOT_ON_KERNEL 1

/* Returns the exit code: EXIT_OK, EXIT_CONFIG (args.h) when the
 * configuration or profile does not load, CHECK_CONFIG_EXIT_NOT_ON_KERNEL
 * with args->strict and a key not on this kernel. */
int check_config_run(const struct args *args);
