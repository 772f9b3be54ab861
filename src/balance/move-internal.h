/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between move.c (the frame and the CPUs) and move_memory.c. */
#pragma once

#include "balance/move.h"
#include "base/util.h"

/* Append "; "-separated text to res->message (cut at its size). */
void move_say(struct move_result *res, const char *fmt, ...) _printf_(2, 3);

/* The last libvirt error sorted into -errno (see move_domain), and its text. */
int move_libvirt_error(void);
const char *move_libvirt_message(void);

/* mask as a bitmap of node ids; *ret must be empty. */
void move_mask_bitmap(uint64_t mask, struct bitmap *ret);

/* The memory step of move_domain (move_memory.c). Fills res->memory_*,
 * migrated_mib, remote_mib and says what it did. */
int move_memory(virDomainPtr dom, const struct kroot *root, const struct domain *d,
                const struct balance_move *m, struct move_result *res);
