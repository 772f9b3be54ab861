/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The values of the [hugepages] section, pure (src/tuning/hugepages-policy.c):
 * an amount (pages, memory or a share of memory) to a page count, and what
 * a restore may give back. The I/O side is src/tuning/plan-hugepages.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define HUGEPAGES_AMOUNT_RULE "a page count, memory with a unit K, M, G or T (8G), or a percentage (25%)"

struct hugepages_amount {
        enum { HP_PAGES, HP_BYTES, HP_PERCENT } kind;
        uint64_t value;         /* pages, bytes, or percent (0..100) */
};

/* "512", "8G", "25%". -EINVAL otherwise. */
int hugepages_amount_parse(const char *value, struct hugepages_amount *ret);

/* The page count an amount asks for, with pages of page_kb KiB in memory
 * of mem_kb KiB (a node's, or the host's): whole pages, rounded down. */
uint64_t hugepages_amount_pages(const struct hugepages_amount *a, uint64_t page_kb, uint64_t mem_kb);

/* Pure: may a restore of nr_hugepages to original go ahead, with nr pages
 * reserved of which free are free? Not when original is below the pages in
 * use (nr - free): the kernel would turn the pages a running VM holds into
 * surplus pages and never hand them out again, so a VM that restarts finds
 * none. *ret_in_use is nr - free. */
bool hugepages_restore_allowed(uint64_t original, uint64_t nr, uint64_t free, uint64_t *ret_in_use);

/* Is path a pool's nr_hugepages file (host-wide or a node's)? The restore
 * check and apply's read-back report go by it. */
bool hugepages_path_is_nr(const char *path);

/* Pure: why the restore of a pool to original waits, with nr pages
 * reserved of which in_use are taken: "waiting, 12 of 16 pages in use by
 * running VMs (original 0)" (malloc'd), for vmtunectl status. */
char *hugepages_waiting_text(const char *original, uint64_t nr, uint64_t in_use);

/* Pure: the free_hugepages file beside a pool's nr_hugepages (malloc'd). */
char *hugepages_free_path(const char *nr_path);
