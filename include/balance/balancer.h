/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The balancer's tick on the event loop (balancer.c): sample -> snapshot ->
 * decide -> move -> log, one call each (STYLE 1). The decisions are the
 * pure policy's (balance/policy.h, policy*.c); the tick only gathers their
 * inputs and carries their outputs out. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

#include "balance/policy.h"

struct balancer;
struct balancer_conf;
struct kroot;
struct virt;

/* Start ticking every conf->interval_sec. The first tick only sets the
 * sampler's baseline. root and virt are borrowed and must outlive it. */
int balancer_new(sd_event *event, const struct kroot *root, struct virt *virt,
                 const struct balancer_conf *conf, struct balancer **ret);
void balancer_free(struct balancer *b);

/* Reload: new thresholds and interval; per-VM state (probation, cooldown) stays. */
void balancer_reconfigure(struct balancer *b, const struct balancer_conf *conf);

/* For vmtunectl: node loads as the seed's balancer printed them; the last
 * tick's plan with every reason; counters for status. */
void balancer_print_nodes(const struct balancer *b, FILE *out, bool json);
void balancer_print_plan(const struct balancer *b, FILE *out, bool json);
void balancer_print_status(const struct balancer *b, FILE *out, bool json);
/* What the balancer reads a tick and what that cost, or why it reads
 * nothing (one line without newline; JSON: an object). */
void balancer_print_sampling(const struct balancer *b, FILE *out, bool json);

/* For the metrics (daemon/metrics.h): the counters since start and the
 * last snapshot's nodes (NULL before the first measurement; owned by the
 * sampler, valid until the next tick). */
struct balancer_counters {
        uint64_t ticks, moves, moves_failed, reverts, migrated_mib;
        uint64_t moves_by_kind[BALANCE_MOVE_KINDS]; /* carried out, by enum balance_move_kind */
        uint64_t last_tick_realtime_usec;
        /* How long ticks took (CLOCK_MONOTONIC, µs): the last, the sum, how many. */
        uint64_t last_tick_duration_usec, tick_duration_usec_sum, ticks_timed;
        const struct balance_node *nodes;
        size_t n_nodes;
};
void balancer_get_counters(const struct balancer *b, struct balancer_counters *ret);
