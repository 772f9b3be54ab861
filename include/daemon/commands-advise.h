/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control commands that read the host and the domains to say what
 * should change: `advise` (virt/advise.h) and `recommend`
 * (daemon/recommend.h). Handlers for commands.c's table. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

struct daemon;

int cmd_advise(void *userdata, int argc, char **argv, bool json, FILE *out);
int cmd_recommend(void *userdata, int argc, char **argv, bool json, FILE *out);

/* The profile recommend names for this host now (`profile --recommended`). */
const char *commands_recommended_profile(struct daemon *d);
