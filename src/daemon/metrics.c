/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The metrics' I/O half (include/daemon/metrics.h): gather a snapshot from
 * the daemon's state, and keep metrics_file= written. The text is
 * metrics-format.c's. */
#include "daemon/metrics.h"

#include <sys/stat.h>
#include <time.h>

#include "balance/balancer.h"
#include "balance/policy.h"
#include "base/log.h"
#include "base/util.h"
#include "config/conf.h"
#include "daemon/daemon.h"
#include "tuning/ksm.h"
#include "tuning/plan.h"
#include "tuning/verify.h"
#include "virt/domain.h"
#include "virt/virt.h"

struct metrics {
        struct daemon *d;
        sd_event_source *timer;
        uint64_t start_time_usec;
        char *written;   /* the file written last, removed when metrics_file= changes or at stop */
        int last_error;  /* of the last write: a failure is logged once, not every interval */
};

static const enum metrics_setting_state from_verify[_VERIFY_STATE_MAX] = {
        [VERIFY_OK] = METRICS_SETTING_OK,
        [VERIFY_ADJUSTED] = METRICS_SETTING_ADJUSTED,
        [VERIFY_DRIFT] = METRICS_SETTING_DRIFTED,
        [VERIFY_SKIPPED] = METRICS_SETTING_SKIPPED,
};

/* The section of a verify row: the first word of its key ("sysctl vm.swappiness"). */
static struct metrics_section *section_get(struct metrics_snapshot *s, const char *key)
{
        size_t len = strcspn(key, " ");

        for (size_t i = 0; i < s->n_sections; i++)
                if (strlen(s->sections[i].name) == len && strncmp(s->sections[i].name, key, len) == 0)
                        return &s->sections[i];
        s->sections = xreallocarray(s->sections, s->n_sections + 1, sizeof(*s->sections));
        s->sections[s->n_sections] = (struct metrics_section){ .name = strndup(key, len) };
        if (!s->sections[s->n_sections].name)
                abort();
        return &s->sections[s->n_sections++];
}

/* The same comparison as `vmtunectl verify` and status: against the plan
 * the apply used. */
static void gather_settings(struct daemon *d, struct metrics_snapshot *s)
{
        struct target_list targets = {};
        struct verify_report v = {};

        if (!d->applied || settings_plan(&d->root, d->tuning.profile, &targets) < 0)
                return;
        verify_run(&d->root, d->rollback, &targets, &v);
        target_list_free(&targets);
        for (size_t i = 0; i < v.n_rows; i++)
                section_get(s, v.rows[i].key)->count[from_verify[v.rows[i].state]]++;
        s->have_verify = true;
        verify_report_free(&v);
}

static void gather_domain(const struct domain *dom, struct metrics_domain *ret)
{
        uint64_t local = 0, all = 0;

        *ret = (struct metrics_domain){ .name = xstrdup(dom->name), .uuid = xstrdup(dom->uuid),
                                        .local_memory_ratio = -1 };
        ret->nodes = xcalloc(bitmap_count(&dom->cpu_nodes), sizeof(*ret->nodes));
        for (unsigned node = 0; node < bitmap_size(&dom->cpu_nodes); node++)
                if (bitmap_test(&dom->cpu_nodes, node))
                        ret->nodes[ret->n_nodes++] = node;
        for (size_t node = 0; node < dom->n_node_memory; node++) {
                all += dom->node_memory_kib[node];
                if (bitmap_test(&dom->cpu_nodes, (unsigned) node))
                        local += dom->node_memory_kib[node];
        }
        if (all > 0 && ret->n_nodes > 0)
                ret->local_memory_ratio = (double) local / (double) all;
}

static void gather_balancer(const struct balancer *b, struct metrics_snapshot *s)
{
        struct balancer_counters c;

        balancer_get_counters(b, &c);
        s->have_balancer = true;
        s->balancer_ticks = c.ticks;
        /* The metric's label names why; the policy's kinds say how. */
        s->balancer_moves[METRICS_MOVE_REBALANCE] = c.moves_by_kind[BALANCE_MOVE_CPU];
        s->balancer_moves[METRICS_MOVE_PLACE] = c.moves_by_kind[BALANCE_MOVE_PLACE];
        s->balancer_moves[METRICS_MOVE_SWAP] = c.moves_by_kind[BALANCE_MOVE_SWAP];
        s->balancer_moves[METRICS_MOVE_REVERT] = c.moves_by_kind[BALANCE_MOVE_REVERT];
        s->balancer_moves[METRICS_MOVE_MEMORY] = c.moves_by_kind[BALANCE_MOVE_MEMORY];
        s->balancer_last_tick_duration_usec = c.last_tick_duration_usec;
        s->balancer_tick_duration_usec_sum = c.tick_duration_usec_sum;
        s->balancer_tick_count = c.ticks_timed;
        s->balancer_moves_failed = c.moves_failed;
        s->balancer_reverts = c.reverts;
        s->balancer_migrated_bytes = c.migrated_mib << 20;
        s->balancer_last_tick_usec = c.last_tick_realtime_usec;
        s->nodes = xcalloc(c.n_nodes, sizeof(*s->nodes));
        s->n_nodes = c.n_nodes;
        for (size_t i = 0; i < c.n_nodes; i++)
                s->nodes[i] = (struct metrics_node){
                        .id = c.nodes[i].id, .cpus = c.nodes[i].cpus, .nr_running = c.nodes[i].nr_running,
                        .mem_total_bytes = c.nodes[i].mem_total_mib << 20,
                        .mem_free_bytes = c.nodes[i].mem_free_mib << 20,
                };
}

void metrics_gather(struct daemon *d, struct metrics_snapshot *ret)
{
        struct metrics_snapshot s = {
                .version = VMTUNED_VERSION,
                .start_time_usec = d->metrics ? d->metrics->start_time_usec : 0,
                .profile = d->tuning.profile->name,
                .profile_source = profile_source_to_string(d->tuning.source),
                .applied = d->applied,
                .dry_run = d->args->dry_run,
                .applied_since_usec = d->applied ? d->applied_since_usec : 0,
                .apply_changed = d->stats.applied,
                .apply_already_set = d->stats.unchanged,
                .apply_skipped = d->stats.skipped,
                .libvirt_connected = d->virt && virt_is_connected(d->virt),
        };
        const struct domain *doms = NULL;
        struct ksm_report kr;

        gather_settings(d, &s);
        if (d->virt)
                doms = virt_domains(d->virt, &s.n_domains_running);
        /* The domain table holds running domains only: the per-domain
         * series stay as many as the VMs on the host. */
        s.domains = xcalloc(s.n_domains_running, sizeof(*s.domains));
        for (size_t i = 0; i < s.n_domains_running; i++)
                gather_domain(&doms[i], &s.domains[s.n_domains++]);
        if (d->balancer)
                gather_balancer(d->balancer, &s);
        if (d->ksm && ksm_report(d->ksm, &kr) >= 0 && kr.state.present) {
                s.have_ksm = true;
                s.ksm_pages_sharing = kr.state.pages_sharing;
                s.ksm_general_profit_bytes = kr.state.general_profit;
        }
        *ret = s;
}

void metrics_snapshot_done(struct metrics_snapshot *s)
{
        for (size_t i = 0; i < s->n_sections; i++)
                free(s->sections[i].name);
        free(s->sections);
        for (size_t i = 0; i < s->n_domains; i++) {
                free(s->domains[i].name);
                free(s->domains[i].uuid);
                free(s->domains[i].nodes);
        }
        free(s->domains);
        free(s->nodes);
        *s = (struct metrics_snapshot){};
}

/* --- metrics_file= ------------------------------------------------------- */

static char *format_text(struct daemon *d)
{
        struct metrics_snapshot s;
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                abort();
        metrics_gather(d, &s);
        metrics_format(f, &s);
        metrics_snapshot_done(&s);
        fclose(f);
        return text;
}

static int write_metrics(struct metrics *m, const char *path)
{
        _cleanup_free_ char *text = format_text(m->d);
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        mode_t old_umask;
        int r;

        /* metrics_file= is an absolute path (conf.c): there is a slash. */
        slash[slash == dir] = '\0';
        /* The unit's UMask=0077 would leave it 0600: node_exporter runs as
         * its own user and must read it. The daemon has one thread. */
        old_umask = umask(0022);
        r = write_file_replace(dir, path, text, 0644);
        umask(old_umask);
        return r;
}

static void forget_written(struct metrics *m)
{
        if (m->written && unlink(m->written) < 0 && errno != ENOENT)
                (void) log_event_errno(LOG_WARNING, -errno, MSGID_METRICS_WRITE_FAILED, NULL,
                                       "cannot remove the metrics file %s: %m", m->written);
        free(m->written);
        m->written = NULL;
}

void metrics_update(struct metrics *m)
{
        const struct vmtuned_conf *conf;
        const char *path;
        int r;

        if (!m)
                return;
        conf = m->d->tuning.conf;
        path = conf->metrics_file;
        if (!streq_ptr(m->written, path)) {
                forget_written(m);
                m->last_error = 0;
        }
        if (!path) {
                (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
                return;
        }
        r = write_metrics(m, path);
        if (r < 0 && r != m->last_error)
                (void) log_event_errno(LOG_WARNING, r, MSGID_METRICS_WRITE_FAILED, NULL,
                                       "cannot write the metrics file %s: %m; trying again every %ld s", path,
                                       conf->balancer.interval_sec);
        else if (r >= 0 && m->last_error < 0)
                log_info("metrics file %s written again", path);
        m->last_error = r < 0 ? r : 0;
        if (!m->written)
                m->written = xstrdup(path);
        (void) sd_event_source_set_time_relative(m->timer, (uint64_t) conf->balancer.interval_sec * 1000000);
        (void) sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        metrics_update(userdata);
        return 0;
}

int metrics_new(sd_event *event, struct daemon *d, struct metrics **ret)
{
        struct metrics *m = xcalloc(1, sizeof(*m));
        struct timespec ts;
        int r;

        m->d = d;
        clock_gettime(CLOCK_REALTIME, &ts);
        m->start_time_usec = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
        r = sd_event_add_time_relative(event, &m->timer, CLOCK_MONOTONIC, 0, 0, on_timer, m);
        if (r < 0) {
                free(m);
                return r;
        }
        (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        *ret = m;
        return 0;
}

void metrics_free(struct metrics *m)
{
        if (!m)
                return;
        forget_written(m);
        sd_event_source_disable_unref(m->timer);
        free(m);
}
