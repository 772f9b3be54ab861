/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The balancer's tick, the I/O side of job 2: every interval on the event
 * loop, sample -> snapshot -> decide -> move -> log, one call each. It
 * decides nothing itself: balance_plan() (policy*.c, pure) decides, and
 * balance_record_result() takes each move's outcome back into the policy's
 * state. Also what vmtunectl shows of the last tick. */
#include "balance/balancer.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "balance/policy.h"
#include "config/conf.h"
#include "virt/domain.h"
#include "base/json.h"
#include "base/kfile.h"
#include "base/log.h"
#include "balance/move.h"
#include "balance/sample.h"
#include "balance/topology.h"
#include "virt/virt.h"

/* Per-domain policy state that survives ticks, keyed by UUID: the domain
 * table is rebuilt by events, the balancer's memory of a VM must not be. */
struct vm_memory {
        char uuid[VIR_UUID_STRING_BUFLEN];
        struct balance_vm vm;
};

struct balancer {
        sd_event_source *timer;
        const struct kroot *root;
        struct virt *virt;
        struct topology *topology;
        const struct bitmap **node_cpus; /* by node id, for the mover */
        size_t n_node_cpus;
        struct sampler *sampler;
        struct balance_params params;
        uint64_t interval_usec;

        struct balance_state state;     /* state.vms is rebuilt parallel to each snapshot */
        struct vm_memory *memory;       /* what survives ticks */
        size_t n_memory;

        /* The last tick, for vmtunectl. */
        struct balance_snapshot snapshot; /* arrays owned by the sampler: valid until the next tick */
        bool have_snapshot;
        struct balance_plan plan;
        bool have_plan;
        uint64_t last_tick_realtime_usec;
        /* Why the last tick read nothing (a constant string), or NULL. */
        const char *idle_reason;

        uint64_t ticks, moves, moves_failed, reverts, migrated_mib;
        uint64_t moves_by_kind[BALANCE_MOVE_KINDS];
        uint64_t last_tick_duration_usec, tick_duration_usec_sum, ticks_timed;
};

static struct vm_memory *memory_find(struct balancer *b, const char *uuid)
{
        for (size_t i = 0; i < b->n_memory; i++)
                if (streq(b->memory[i].uuid, uuid))
                        return &b->memory[i];
        return NULL;
}

/* Give the policy its per-VM state parallel to the snapshot's domains. */
static void state_load(struct balancer *b, const struct domain *doms, size_t n)
{
        b->state.vms = xreallocarray(b->state.vms, n, sizeof(*b->state.vms));
        b->state.n_vms = n;
        for (size_t i = 0; i < n; i++) {
                const struct vm_memory *m = memory_find(b, doms[i].uuid);
                b->state.vms[i] = m ? m->vm : (struct balance_vm){};
        }
}

/* Keep what the policy updated; forget domains that are gone. */
static void state_store(struct balancer *b, const struct domain *doms, size_t n)
{
        struct vm_memory *kept = xcalloc(n, sizeof(*kept));

        for (size_t i = 0; i < n; i++) {
                snprintf(kept[i].uuid, sizeof(kept[i].uuid), "%s", doms[i].uuid);
                kept[i].vm = b->state.vms[i];
        }
        free(b->memory);
        b->memory = kept;
        b->n_memory = n;
}

static const struct domain *domain_by_id(const struct domain *doms, size_t n, size_t index)
{
        return index < n ? &doms[index] : NULL;
}

/* "memory vm1 node0 -> node3": what a move is, before its reason, in the
 * journal and in `vmtunectl plan` alike (the reasons say only why). */
static char *move_title(const struct balance_move *m, const char *name)
{
        _cleanup_free_ char *from = move_nodes_format(m->from_nodes);
        _cleanup_free_ char *to = move_nodes_format(m->to_nodes);

        if (!m->from_nodes)
                return xasprintf("%s %s -> node%s", balance_move_kind_to_string(m->kind), name, to);
        return xasprintf("%s %s node%s -> node%s", balance_move_kind_to_string(m->kind), name, from, to);
}

/* The load (runnable threads per CPU) of a set of nodes in this tick's
 * snapshot, the one the move was decided on, for VMTUNED_LOAD_FROM/TO:
 * "" where there is none (a placement has no source). */
static const char *nodes_load(const struct balancer *b, uint64_t mask, char buf[static 32])
{
        double running = 0;
        unsigned cpus = 0;

        buf[0] = '\0';
        for (size_t i = 0; b->have_snapshot && i < b->snapshot.n_nodes; i++)
                if (b->snapshot.nodes[i].id < 64 && mask & (UINT64_C(1) << b->snapshot.nodes[i].id)) {
                        running += b->snapshot.nodes[i].nr_running;
                        cpus += b->snapshot.nodes[i].cpus;
                }
        if (cpus > 0)
                snprintf(buf, 32, "%.2f", running / cpus);
        return buf[0] ? buf : NULL;
}

static void log_move(struct balancer *b, const struct domain *d, const struct balance_move *m,
                     const struct move_result *res, int r)
{
        _cleanup_free_ char *from = move_nodes_format(m->from_nodes);
        _cleanup_free_ char *to = move_nodes_format(m->to_nodes);
        _cleanup_free_ char *title = move_title(m, d->name);
        char load_from[32], load_to[32];
        const struct log_field *fields = LOG_FIELDS({ "VMTUNED_DOMAIN", d->name }, { "VMTUNED_UUID", d->uuid },
                                                     { "VMTUNED_FROM_NODE", from }, { "VMTUNED_TO_NODE", to },
                                                     { "VMTUNED_MOVE_KIND", balance_move_kind_to_string(m->kind) },
                                                     { "VMTUNED_MIB", LOG_U64(res->migrated_mib) },
                                                     { "VMTUNED_REMOTE_MIB", LOG_U64(res->remote_mib) },
                                                     { "VMTUNED_SECONDS", LOG_SECONDS(res->elapsed_usec) },
                                                     { "VMTUNED_LOAD_FROM", nodes_load(b, m->from_nodes, load_from) },
                                                     { "VMTUNED_LOAD_TO", nodes_load(b, m->to_nodes, load_to) });

        if (r < 0) {
                (void) log_event_errno(LOG_WARNING, r, MSGID_BALANCE_MOVE_FAILED, fields, "%s failed: %m%s (%s)",
                                       title, res->undone ? "; the threads already moved were pinned back" : "",
                                       res->message);
                return;
        }
        log_event(LOG_NOTICE, b->root->dry_run ? MSGID_BALANCE_MOVE_DRY_RUN : MSGID_BALANCE_MOVE, fields,
                  "%s: %s; took %.2f s, %" PRIu64 " MiB migrated, %" PRIu64 " MiB still remote%s", title,
                  m->reason, res->elapsed_usec / 1e6, res->migrated_mib, res->remote_mib,
                  b->root->dry_run ? " (dry run: nothing moved)" : "");
}

/* The policy owns what a move's outcome changes (balance_record_result());
 * the tick only reports it and logs what the policy concluded. */
static void record_result(struct balancer *b, const struct domain *d, const struct balance_move *m,
                          const struct move_result *res, int r)
{
        struct balance_result outcome = {
                .error = r < 0 ? r : 0,
                .dry_run = b->root->dry_run,
                .migrated_mib = res->migrated_mib,
                .remote_mib = res->remote_mib,
                .elapsed_usec = res->elapsed_usec,
        };
        char why[BALANCE_REASON_MAX];

        if (balance_record_result(&b->state, m, &outcome, why, sizeof(why)))
                log_event(LOG_INFO, MSGID_BALANCE_DECISION, LOG_FIELDS({ "VMTUNED_DOMAIN", d->name }),
                          "balancer: %s: %s", d->name, why);
}

static void carry_out(struct balancer *b, const struct domain *doms, size_t n)
{
        virConnectPtr conn = virt_connection(b->virt);

        for (size_t i = 0; i < b->plan.n_moves; i++) {
                const struct balance_move *m = &b->plan.moves[i];
                const struct domain *d = domain_by_id(doms, n, m->domain);
                struct move_result res = {};
                struct bitmap cpus = {};
                int r;

                if (!d || !conn)
                        continue;
                if (m->kind != BALANCE_MOVE_MEMORY) {
                        r = move_nodes_cpus(b->node_cpus, b->n_node_cpus, m->to_nodes, &cpus);
                        if (r < 0) {
                                (void) log_event_errno(LOG_WARNING, r, MSGID_BALANCE_ERROR, NULL,
                                                       "%s: cannot find the CPUs of the target nodes: %m",
                                                       d->name);
                                continue;
                        }
                }
                /* A move blocks the loop while the kernel migrates memory: a
                 * ping now gives it all of WatchdogSec, not what is left. */
                (void) sd_notify(false, "WATCHDOG=1");
                r = move_domain(conn, b->root, d, m, m->kind == BALANCE_MOVE_MEMORY ? NULL : &cpus, &res);
                bitmap_done(&cpus);
                log_move(b, d, m, &res, r);
                record_result(b, d, m, &res, r);
                if (r < 0) {
                        b->moves_failed++;
                        continue;
                }
                b->moves++;
                b->moves_by_kind[m->kind]++;
                b->reverts += m->kind == BALANCE_MOVE_REVERT;
                b->migrated_mib += res.migrated_mib;
        }
}

static bool any_movable(const struct domain *doms, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (doms[i].movable)
                        return true;
        return false;
}

/* No movable VM: no plan can hold a move (placement, rebalancing, memory
 * and reverts all want a movable domain), so reading /proc cannot change a
 * decision. The counters are dropped: the tick after a VM becomes movable
 * sets a fresh baseline rather than averaging over the idle stretch. */
static bool idle_tick(struct balancer *b, const struct domain *doms, size_t n)
{
        if (any_movable(doms, n)) {
                if (b->idle_reason)
                        log_debug("balancer: a movable VM; sampling again");
                b->idle_reason = NULL;
                return false;
        }
        if (!b->idle_reason)
                log_debug("balancer: no movable VM; not sampling until there is one");
        b->idle_reason = "no movable VM: nothing sampled";
        sampler_reset(b->sampler);
        b->have_snapshot = b->have_plan = false;
        return true;
}

/* One tick: sample -> snapshot -> decide -> move -> log. */
static void tick_once(struct balancer *b)
{
        const struct domain *doms;
        size_t n = 0;
        uint64_t now = 0;
        struct timespec ts;
        int r;

        b->ticks++;
        clock_gettime(CLOCK_REALTIME, &ts);
        b->last_tick_realtime_usec = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
        doms = virt_domains(b->virt, &n);
        if (idle_tick(b, doms, n))
                return;
        (void) sd_event_now(sd_event_source_get_event(b->timer), CLOCK_MONOTONIC, &now);

        r = sampler_tick(b->sampler, b->root, b->topology, doms, n, now);
        if (r < 0) {
                (void) log_event_errno(LOG_WARNING, r, MSGID_BALANCE_ERROR, NULL,
                                       "balancer: sampling failed: %m; starting a new baseline next tick");
                b->have_snapshot = b->have_plan = false;
                return;
        }
        r = sampler_snapshot(b->sampler, b->topology, doms, n, &b->snapshot);
        b->have_snapshot = r >= 0;
        if (r == -EAGAIN)
                return; /* the first tick: a baseline only */
        if (r < 0) {
                (void) log_event_errno(LOG_WARNING, r, MSGID_BALANCE_ERROR, NULL,
                                       "balancer: no snapshot this tick: %m");
                return;
        }

        state_load(b, doms, n);
        r = balance_plan(&b->params, &b->snapshot, &b->state, &b->plan);
        if (r < 0) {
                (void) log_event_errno(LOG_ERR, r, MSGID_BALANCE_ERROR, NULL,
                                       "balancer: the policy refused the snapshot: %m");
                b->have_plan = false;
                return;
        }
        b->have_plan = true;

        for (size_t i = 0; i < b->plan.n_notes; i++)
                log_event(LOG_INFO, MSGID_BALANCE_DECISION, NULL, "balancer: %s", b->plan.notes[i].reason);
        if (b->plan.n_moves == 0)
                log_event(LOG_DEBUG, MSGID_BALANCE_DECISION, NULL, "balancer: no move: %s", b->plan.reason);
        carry_out(b, doms, n);
        /* After the moves: their outcomes are part of the state kept. */
        state_store(b, doms, n);
}

static uint64_t monotonic_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* The tick, timed for the metrics (vmtuned_balancer_tick_seconds): its
 * moves included, which is where the time goes when memory migrates. */
static void tick(struct balancer *b)
{
        uint64_t start = monotonic_usec();

        tick_once(b);
        b->last_tick_duration_usec = monotonic_usec() - start;
        b->tick_duration_usec_sum += b->last_tick_duration_usec;
        b->ticks_timed++;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct balancer *b = userdata;

        tick(b);
        (void) sd_event_source_set_time_relative(s, b->interval_usec);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* The slack the tick may take: a fifth of the interval. The sampler
 * measures the interval it actually got, so a late tick distorts nothing,
 * and sd-event can wake once for this, the KSM timer and the watchdog ping
 * (sd_event_source_set_time_accuracy()). */
static uint64_t accuracy_usec(const struct balancer *b)
{
        return b->interval_usec / 5;
}

void balancer_reconfigure(struct balancer *b, const struct balancer_conf *conf)
{
        balance_params_from_conf(conf, &b->params);
        b->interval_usec = (uint64_t) conf->interval_sec * 1000000;
        if (b->timer)
                (void) sd_event_source_set_time_accuracy(b->timer, accuracy_usec(b));
}

/* Nodes the balancer could place a VM on: those with CPUs. */
static size_t cpu_nodes(const struct topology *t)
{
        size_t n = 0;

        for (size_t i = 0; i < t->n_nodes; i++)
                n += t->nodes[i].n_cpus > 0;
        return n;
}

int balancer_new(sd_event *event, const struct kroot *root, struct virt *virt,
                 const struct balancer_conf *conf, struct balancer **ret)
{
        struct balancer *b = xcalloc(1, sizeof(*b));
        int r;

        b->root = root;
        b->virt = virt;
        balancer_reconfigure(b, conf);
        r = topology_read(root, &b->topology);
        if (r < 0)
                goto fail;
        for (size_t i = 0; i < b->topology->n_nodes; i++)
                b->n_node_cpus = MAX(b->n_node_cpus, (size_t) b->topology->nodes[i].id + 1);
        b->node_cpus = xcalloc(b->n_node_cpus, sizeof(*b->node_cpus));
        for (size_t i = 0; i < b->topology->n_nodes; i++)
                if (b->topology->nodes[i].n_cpus > 0)
                        b->node_cpus[b->topology->nodes[i].id] = &b->topology->nodes[i].cpus;
        b->sampler = sampler_new(SAMPLER_SOURCE_AUTO);
        if (cpu_nodes(b->topology) < 2) {
                /* Fixed until restart: the topology is read once. */
                b->idle_reason = "one NUMA node: nothing to balance";
                log_info("balancer: one NUMA node: nothing to balance; the balancer stays idle");
                *ret = b;
                return 0;
        }
        r = sd_event_add_time_relative(event, &b->timer, CLOCK_MONOTONIC, b->interval_usec, accuracy_usec(b),
                                       on_timer, b);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(b->timer, "balancer");
        log_info("balancer: %zu NUMA node(s), %u CPUs; every %" PRIu64 " s%s", b->topology->n_nodes,
                 b->topology->n_cpus, b->interval_usec / 1000000,
                 root->dry_run ? " (dry run: moves are logged, not made)" : "");
        *ret = b;
        return 0;
fail:
        balancer_free(b);
        return r;
}

void balancer_free(struct balancer *b)
{
        if (!b)
                return;
        sd_event_source_disable_unref(b->timer);
        sampler_free(b->sampler);
        free(b->node_cpus);
        topology_free(b->topology);
        free(b->state.vms);
        free(b->memory);
        free(b);
}

/* --- for vmtunectl ------------------------------------------------------ */

static double node_load(const struct balance_node *n)
{
        return n->cpus ? n->nr_running / n->cpus : 0;
}

static bool only_node(uint64_t mask, unsigned id)
{
        return mask == BALANCE_NODE_BIT(id);
}

/* Seed 004's table: node nr_running nr_cpus load imbalance VMs(nr_running),
 * imbalance being the node's load against the host's, in percent. */
void balancer_print_nodes(const struct balancer *b, FILE *out, bool json)
{
        const struct balance_snapshot *s = &b->snapshot;
        double nr_all = 0, load_all;
        unsigned cpus_all = 0;

        if (!b->have_snapshot) {
                if (json)
                        fputs("null", out);
                else if (b->idle_reason)
                        fprintf(out, "balancer: no measurement: %s\n", b->idle_reason);
                else
                        fputs("balancer: no measurement yet (the first tick sets a baseline)\n", out);
                return;
        }
        for (size_t i = 0; i < s->n_nodes; i++) {
                nr_all += s->nodes[i].nr_running;
                cpus_all += s->nodes[i].cpus;
        }
        load_all = cpus_all ? nr_all / cpus_all : 0;
        if (!json)
                fprintf(out, "%-6s %10s %7s %6s %9s  %s\n", "node", "nr_running", "nr_cpus", "load", "imbalance",
                        "VMs(nr_running)");
        else
                fputc('[', out);
        for (size_t i = 0; i < s->n_nodes; i++) {
                const struct balance_node *n = &s->nodes[i];
                double imbalance = load_all > 0 ? (node_load(n) - load_all) / load_all * 100 : 0;
                bool first = true;

                if (json)
                        fprintf(out, "%s{\"node\":%u,\"nr_running\":%.2f,\"cpus\":%u,\"load\":%.3f,"
                                     "\"imbalance_percent\":%.2f,\"mem_free_mib\":%" PRIu64 ",\"vms\":[",
                                i ? "," : "", n->id, n->nr_running, n->cpus, node_load(n), imbalance,
                                n->mem_free_mib);
                else
                        fprintf(out, "node%-2u %10.2f %7u %6.3f %+8.2f%% ", n->id, n->nr_running, n->cpus,
                                node_load(n), imbalance);
                for (size_t j = 0; j < s->n_domains; j++) {
                        const struct balance_domain *d = &s->domains[j];

                        if (!only_node(d->cpu_nodes, n->id))
                                continue;
                        if (json) {
                                fputs(first ? "{\"name\":" : ",{\"name\":", out);
                                json_print_string(out, d->name);
                                fprintf(out, ",\"load\":%.2f}", d->load);
                        } else {
                                fprintf(out, " %s: %.1f", d->name, d->load);
                        }
                        first = false;
                }
                fputs(json ? "]}" : "\n", out);
        }
        if (json)
                fputc(']', out);
        else
                fprintf(out, "%-6s %10.2f %7u %6.3f %+8.2f%%\n", "all", nr_all, cpus_all, load_all, 0.0);
}

void balancer_print_plan(const struct balancer *b, FILE *out, bool json)
{
        const struct balance_plan *p = &b->plan;

        if (!b->have_plan) {
                if (json) {
                        json_print_open(out);
                        fputs(",\"plan\":null,\"reason\":", out);
                        json_print_string(out, b->idle_reason ? b->idle_reason
                                                              : "the balancer needs two ticks of measurements");
                        fputs("}\n", out);
                } else if (b->idle_reason)
                        fprintf(out, "no plan: %s\n", b->idle_reason);
                else
                        fputs("no plan yet: the balancer needs two ticks of measurements\n", out);
                return;
        }
        if (json) {
                json_print_open(out);
                fprintf(out, ",\"tick\":%" PRIu64 ",\"time_usec\":%" PRIu64 ",\"moves\":[", b->ticks,
                        b->last_tick_realtime_usec);
                for (size_t i = 0; i < p->n_moves; i++) {
                        const struct balance_move *m = &p->moves[i];
                        fputs(i ? ",{\"kind\":" : "{\"kind\":", out);
                        json_print_string(out, balance_move_kind_to_string(m->kind));
                        fputs(",\"domain\":", out);
                        json_print_string(out, b->snapshot.domains[m->domain].name);
                        fprintf(out, ",\"from_nodes\":%" PRIu64 ",\"to_nodes\":%" PRIu64 ",\"migrate_mib\":%" PRIu64
                                     ",\"reason\":",
                                m->from_nodes, m->to_nodes, m->migrate_mib);
                        json_print_string(out, m->reason);
                        fputc('}', out);
                }
                fputs("],\"notes\":[", out);
                for (size_t i = 0; i < p->n_notes; i++) {
                        fputs(i ? "," : "", out);
                        json_print_string(out, p->notes[i].reason);
                }
                fputs("],\"reason\":", out);
                json_print_string(out, p->reason);
                fputs(",\"nodes\":", out);
                balancer_print_nodes(b, out, true);
                fputs("}\n", out);
                return;
        }
        balancer_print_nodes(b, out, false);
        fprintf(out, "\nlast tick (#%" PRIu64 "):\n", b->ticks);
        for (size_t i = 0; i < p->n_moves; i++) {
                _cleanup_free_ char *title = move_title(&p->moves[i], b->snapshot.domains[p->moves[i].domain].name);

                fprintf(out, "  %s: %s\n", title, p->moves[i].reason);
        }
        for (size_t i = 0; i < p->n_notes; i++)
                fprintf(out, "  note: %s\n", p->notes[i].reason);
        fprintf(out, "  %s%s\n", p->n_moves ? "then: " : "no move: ", p->reason);
}

void balancer_print_status(const struct balancer *b, FILE *out, bool json)
{
        /* the mover's measured pace and what it allows a tick (rule 5) */
        double rate = b->state.migrate_mib_per_sec, budget = balance_migrate_budget_mib(&b->params, &b->state);

        if (json) {
                fprintf(out, "{\"ticks\":%" PRIu64 ",\"moves\":%" PRIu64 ",\"moves_failed\":%" PRIu64
                             ",\"reverts\":%" PRIu64 ",\"migrated_mib\":%" PRIu64 ",\"last_tick_usec\":%" PRIu64
                             ",\"migrate_mib_per_sec\":%.0f,\"migrate_budget_mib\":%.0f}",
                        b->ticks, b->moves, b->moves_failed, b->reverts, b->migrated_mib,
                        b->last_tick_realtime_usec, rate, budget);
                return;
        }
        fprintf(out, "%" PRIu64 " ticks, %" PRIu64 " moves (%" PRIu64 " reverts, %" PRIu64 " failed), %" PRIu64
                     " MiB migrated",
                b->ticks, b->moves, b->reverts, b->moves_failed, b->migrated_mib);
        if (rate > 0)
                fprintf(out, " at %.0f MiB/s, up to %.0f MiB a tick", rate, budget);
        else
                fprintf(out, ", up to %.0f MiB a tick until a migration is timed", budget);
}

/* What sampling costs: the whole-system thread walk, where proc/schedstat
 * is missing, grows with every thread on the host; say so. */
void balancer_print_sampling(const struct balancer *b, FILE *out, bool json)
{
        struct sampler_stats st;

        sampler_get_stats(b->sampler, &st);
        if (json) {
                fputs("{\"idle\":", out);
                if (b->idle_reason)
                        json_print_string(out, b->idle_reason);
                else
                        fputs("null", out);
                fputs(",\"method\":", out);
                json_print_string(out, sampler_source_to_string(st.source));
                fprintf(out, ",\"threads\":%zu,\"files\":%zu,\"cpu_usec\":%" PRIu64 ",\"unkept\":%zu,\"kept_limit\":%zu}",
                        st.threads, st.files, st.cpu_usec, st.unkept, st.kept_limit);
                return;
        }
        if (b->idle_reason)
                fprintf(out, "idle: %s", b->idle_reason);
        else if (st.source == SAMPLER_SOURCE_AUTO)
                fputs("no tick yet", out);
        else
                fprintf(out, "%s, last tick %zu threads, %zu files, %.2f ms CPU",
                        st.source == SAMPLER_SOURCE_THREADS ? "every thread of the host (no proc/schedstat)"
                                                            : "proc/schedstat and the VMs' threads",
                        st.threads, st.files, st.cpu_usec / 1000.0);
        /* Under systemd the unit's LimitNOFILE= keeps every file; a start
         * by hand with a low hard limit reopens them each tick (the
         * 1,000-VM tick took 5x as long at a hard limit of 4096). */
        if (!b->idle_reason && st.unkept)
                fprintf(out, "; %zu files opened again each tick: %zu may stay open (half the soft "
                        "RLIMIT_NOFILE), raise the limit",
                        st.unkept, st.kept_limit);
}

void balancer_get_counters(const struct balancer *b, struct balancer_counters *ret)
{
        *ret = (struct balancer_counters){
                .ticks = b->ticks, .moves = b->moves, .moves_failed = b->moves_failed, .reverts = b->reverts,
                .migrated_mib = b->migrated_mib, .last_tick_realtime_usec = b->last_tick_realtime_usec,
                .last_tick_duration_usec = b->last_tick_duration_usec,
                .tick_duration_usec_sum = b->tick_duration_usec_sum, .ticks_timed = b->ticks_timed,
                .nodes = b->have_snapshot ? b->snapshot.nodes : NULL,
                .n_nodes = b->have_snapshot ? b->snapshot.n_nodes : 0,
        };
        memcpy(ret->moves_by_kind, b->moves_by_kind, sizeof(ret->moves_by_kind));
}
