/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What vmtunectl can ask the daemon (src/daemon/commands.c). */
#pragma once

#include <stddef.h>

struct control_command;
struct daemon;

/* The command table, with d as every handler's userdata; main() hands it
 * to daemon_run (a daemon_commands_fn). One daemon per process: the table
 * is static. */
size_t commands_table(struct daemon *d, const struct control_command **ret);
