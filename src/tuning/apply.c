/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applying targets with the rollback journal (include/tuning/apply.h). */
#include "tuning/apply.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/kfile.h"
#include "base/log.h"
#include "tuning/absent.h"
#include "tuning/hugepages-policy.h"
#include "tuning/rollback.h"
#include "base/util.h"

/* error > 0: the errno of the failed call, for the entry's ERRNO=. */
static _printf_(4, 5) void log_skip(const struct target *t, const char *message_id, int error, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);

        (void) log_event_errno(LOG_WARNING, error, message_id, LOG_FIELDS({ "VMTUNED_KEY", t->key }),
                               "%s: %s, skipped", t->key, msg);
}

/* Is current already where the target wants it? Logs why when it cannot tell. */
static int target_satisfied(const struct target *t, const char *current, const char *desired)
{
        int r = target_value_satisfied(current, desired, t->only_if_greater);

        if (r < 0)
                log_skip(t, MSGID_SETTING_REFUSED, 0, "\"%s\" is not a number to compare with", current);
        return r;
}

/* Undo the journal entry of a write that did not happen. */
static int unrecord(struct rollback *rb, const struct target *t, const char *prev_written)
{
        /* An existing entry keeps its original: only written goes back,
         * to what the kernel never left. */
        if (prev_written)
                return rollback_record_held(rb, t->key, t->path, "", prev_written);
        return rollback_forget(rb, t->path);
}

static int apply_one(const struct kroot *root, struct rollback *rb, const struct target *t,
                     struct apply_stats *st)
{
        _cleanup_free_ char *desired = kfile_normalize(xstrdup(t->value));
        _cleanup_free_ char *prev_written = NULL;
        const struct rollback_entry *e;
        const char *source = t->source ? t->source : "override";
        char current[KFILE_VALUE_MAX], after[KFILE_VALUE_MAX];
        int r;

        r = kfile_read_value(root, t->path, current, sizeof(current));
        if (r == -ENOENT || r == -ENOTDIR) {
                _cleanup_free_ char *suggestion = target_suggest(root, t);

                log_skip(t, MSGID_SETTING_ABSENT, 0, "not on this kernel%s%s%s", suggestion ? "; did you mean " : "",
                         suggestion ? suggestion : "", suggestion ? "?" : "");
                st->skipped++;
                return 0;
        }
        if (r < 0) {
                log_skip(t, MSGID_SETTING_REFUSED, -r, "cannot read it: %s", strerror(-r));
                st->skipped++;
                return 0;
        }
        r = target_satisfied(t, current, desired);
        if (r < 0) {
                st->skipped++;
                return 0;
        }
        if (r > 0) {
                /* The kernel holds what the plan wants, but the journal
                 * says vmtuned wrote something else: a daemon was killed
                 * between recording a new value and writing it. The value
                 * is vmtuned's; record it, or the stop would take it for
                 * someone else's and lose the original. */
                e = rollback_find(rb, t->path);
                if (e && !root->dry_run && streq(current, desired) && !streq(e->written, current)) {
                        r = rollback_record_held(rb, t->key, t->path, current, current);
                        if (r < 0)
                                return r;
                }
                log_debug("%s: already %s%s", t->key, current,
                          t->only_if_greater ? " (not lowered)" : "");
                st->unchanged++;
                return 0;
        }
        if (root->dry_run) {
                log_event(LOG_INFO, NULL, LOG_FIELDS({ "VMTUNED_KEY", t->key }),
                          "%s: would set %s -> %s (%s) (dry run)", t->key, current, desired, source);
                st->applied++;
                return 0;
        }

        /* The original goes to disk before the write it protects. */
        e = rollback_find(rb, t->path);
        if (e)
                prev_written = xstrdup(e->written);
        r = rollback_record(rb, t->key, t->path, current, desired);
        if (r < 0)
                return r; /* not written: a change without its original on disk could not be undone */

        r = kfile_write(root, t->path, desired);
        if (r < 0) {
                /* EINVAL, EBUSY, EPERM, EACCES, EOPNOTSUPP: the kernel refused the value. */
                log_skip(t, MSGID_SETTING_REFUSED, -r, "the kernel refused the value: %s", strerror(-r));
                st->skipped++;
                return unrecord(rb, t, prev_written);
        }

        r = kfile_read_value(root, t->path, after, sizeof(after));
        if (r < 0 || !streq(after, desired)) {
                /* The kernel adjusted it: record what it holds now, so that
                 * restore still recognises it as ours and puts the original back. */
                if (r < 0)
                        log_skip(t, MSGID_SETTING_REFUSED, -r, "wrote %s, but cannot read it back: %s", desired,
                                 strerror(-r));
                else if (hugepages_path_is_nr(t->path))
                        /* The kernel reserves what it finds free and contiguous. */
                        log_event(LOG_WARNING, MSGID_SETTING_ADJUSTED, LOG_FIELDS({ "VMTUNED_KEY", t->key }),
                                  "%s: asked %s, got %s (fragmented memory, or not enough free)", t->key,
                                  desired, after);
                else
                        log_skip(t, MSGID_SETTING_ADJUSTED, 0, "wrote %s, but the kernel reports \"%s\"", desired,
                                 after);
                st->skipped++;
                return r == 0 ? rollback_record_held(rb, t->key, t->path, current, after) : 0;
        }

        rollback_write_done(rb, t->path);
        e = rollback_find(rb, t->path);
        log_event(LOG_INFO, MSGID_SETTING_APPLIED,
                  LOG_FIELDS({ "VMTUNED_KEY", t->key }, { "VMTUNED_VALUE", desired },
                             { "VMTUNED_ORIGINAL", e ? e->original : current }),
                  "%s: %s -> %s (%s)", t->key, current, desired, source);
        st->applied++;
        return 0;
}

int settings_apply(const struct kroot *root, struct rollback *rb,
                   const struct target_list *targets, struct apply_stats *ret_stats)
{
        struct apply_stats st = {};
        int r;

        for (size_t i = 0; i < targets->n; i++) {
                r = apply_one(root, rb, &targets->v[i], &st);
                if (r < 0)
                        return r;
        }
        *ret_stats = st;
        return 0;
}
