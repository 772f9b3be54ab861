/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libvirt's event loop implementation (virEventRegisterImpl) on sd-event:
 * libvirt's file handles become sd-event I/O sources, its timeouts
 * CLOCK_MONOTONIC time sources, so the remote driver's socket, keepalive
 * and event dispatch run on the daemon's one loop and never block it.
 *
 * Single-threaded by design: vmtuned calls libvirt only from the loop's
 * thread, and the client side of libvirt starts no threads of its own, so
 * every add/update/remove below comes from that thread. */
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <sys/epoll.h>

#include "base/log.h"
#include "base/util.h"
#include "virt/virt.h"

/* Timers are for keepalive (seconds) and event dispatch (0 = next
 * iteration); 1 ms is precise enough and lets sd-event coalesce wakeups. */
#define TIMER_ACCURACY_USEC 1000

struct watch {
        int id;
        bool timer;
        sd_event_source *source;
        int fd;                 /* as libvirt gave it: passed back to the callback */
        int dup_fd;             /* -1, or our duplicate when fd was already in epoll */
        int interval_ms;        /* timers: -1 off, 0 every iteration, N periodic */
        virEventHandleCallback handle_cb;
        virEventTimeoutCallback timeout_cb;
        void *opaque;
        virFreeCallback ff;
        struct watch *next;
};

/* The one global of vmtuned outside log.c, because libvirt's event API has
 * no user pointer (see virt.h). */
static struct {
        bool registered;        /* virEventRegisterImpl done (once per process) */
        sd_event *event;        /* the attached loop, referenced while users > 0 */
        unsigned users;
        struct watch *watches;  /* live ones; removed ones wait for their defer */
        int last_id;
} loop;

static struct watch *watch_find(int id)
{
        for (struct watch *w = loop.watches; w; w = w->next)
                if (w->id == id)
                        return w;
        return NULL;
}

static void watch_unlink(struct watch *w)
{
        for (struct watch **p = &loop.watches; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        return;
                }
}

static struct watch *watch_new(bool timer, void *opaque, virFreeCallback ff)
{
        struct watch *w = xcalloc(1, sizeof(*w));

        /* libvirt treats watch and timer numbers as positive ints. */
        if (loop.last_id == INT32_MAX)
                loop.last_id = 0;
        *w = (struct watch){ .id = ++loop.last_id, .timer = timer, .fd = -1, .dup_fd = -1,
                             .opaque = opaque, .ff = ff, .next = loop.watches };
        loop.watches = w;
        return w;
}

/* Runs when the deferred release source goes away: after its one dispatch,
 * or when the loop is freed first. Either way from a clean stack. */
static void watch_release(void *userdata)
{
        struct watch *w = userdata;

        if (w->ff)
                w->ff(w->opaque);
        free(w);
}

static int watch_release_dispatch(sd_event_source *s, void *userdata)
{
        /* Dropping the loop's reference frees the source once this
         * dispatch returns, and its destroy callback (watch_release) runs. */
        (void) sd_event_source_set_floating(s, false);
        return 0;
}

/* libvirt forbids calling ff from inside remove: it may take locks the
 * caller holds. Stop the source now, release from the loop later. */
static int watch_remove(int id, bool timer)
{
        struct watch *w = watch_find(id);
        sd_event *event;
        sd_event_source *defer = NULL;
        int r;

        if (!w || w->timer != timer)
                return -1;
        watch_unlink(w);
        event = sd_event_ref(sd_event_source_get_event(w->source));
        w->source = sd_event_source_disable_unref(w->source);
        if (w->dup_fd >= 0)
                close(w->dup_fd);
        r = sd_event_add_defer(event, &defer, watch_release_dispatch, w);
        if (r >= 0)
                r = sd_event_source_set_floating(defer, true);
        if (r >= 0)
                r = sd_event_source_set_destroy_callback(defer, watch_release);
        if (r < 0)
                /* Out of memory: leak w rather than call ff on libvirt's stack. */
                (void) log_event_errno(LOG_ERR, r, MSGID_LIBVIRT_EVENT_LOOP, NULL,
                                       "libvirt event loop: cannot schedule the release of %s %d: %m; leaking it",
                                       timer ? "timeout" : "handle", id);
        /* Floating, the loop holds it now; on failure this frees it
         * before any destroy callback was set. */
        sd_event_source_unref(defer);
        sd_event_unref(event);
        return 0;
}

/* --- handles ------------------------------------------------------------ */

static uint32_t to_epoll(int events)
{
        return (events & VIR_EVENT_HANDLE_READABLE ? EPOLLIN : 0) |
               (events & VIR_EVENT_HANDLE_WRITABLE ? EPOLLOUT : 0) |
               (events & VIR_EVENT_HANDLE_ERROR ? EPOLLERR : 0) |
               (events & VIR_EVENT_HANDLE_HANGUP ? EPOLLHUP : 0);
}

static int from_epoll(uint32_t revents)
{
        return (revents & EPOLLIN ? VIR_EVENT_HANDLE_READABLE : 0) |
               (revents & EPOLLOUT ? VIR_EVENT_HANDLE_WRITABLE : 0) |
               (revents & EPOLLERR ? VIR_EVENT_HANDLE_ERROR : 0) |
               (revents & EPOLLHUP ? VIR_EVENT_HANDLE_HANGUP : 0);
}

static int handle_dispatch(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct watch *w = userdata;

        w->handle_cb(w->id, w->fd, from_epoll(revents), w->opaque);
        return 0;
}

static int handle_add(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
        struct watch *w;
        int r;

        if (!loop.event)
                return -1;
        w = watch_new(false, opaque, ff);
        w->fd = fd;
        w->handle_cb = cb;
        r = sd_event_add_io(loop.event, &w->source, fd, to_epoll(events), handle_dispatch, w);
        if (r == -EEXIST) {
                /* libvirt may watch one fd twice with different events;
                 * epoll takes each fd once, so watch a duplicate. */
                w->dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                r = w->dup_fd < 0 ? -errno
                                  : sd_event_add_io(loop.event, &w->source, w->dup_fd, to_epoll(events), handle_dispatch, w);
        }
        if (r >= 0 && events == 0)
                r = sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
        if (r < 0) {
                (void) log_event_errno(LOG_ERR, r, MSGID_LIBVIRT_EVENT_LOOP, NULL,
                                       "libvirt event loop: cannot watch fd %d: %m", fd);
                watch_unlink(w);
                sd_event_source_unref(w->source);
                if (w->dup_fd >= 0)
                        close(w->dup_fd);
                free(w); /* ff is not ours to call when add fails */
                return -1;
        }
        return w->id;
}

static void handle_update(int id, int events)
{
        struct watch *w = watch_find(id);

        if (!w || w->timer)
                return;
        /* epoll always reports ERR and HUP, so no events means off. */
        if (events == 0) {
                (void) sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
                return;
        }
        if (sd_event_source_set_io_events(w->source, to_epoll(events)) < 0 ||
            sd_event_source_set_enabled(w->source, SD_EVENT_ON) < 0)
                log_event(LOG_ERR, MSGID_LIBVIRT_EVENT_LOOP, NULL, "libvirt event loop: cannot update handle %d", id);
}

static int handle_remove(int id)
{
        return watch_remove(id, false);
}

/* --- timeouts ----------------------------------------------------------- */

static void timer_arm(struct watch *w)
{
        uint64_t now = 0;

        if (w->interval_ms < 0) {
                (void) sd_event_source_set_enabled(w->source, SD_EVENT_OFF);
                return;
        }
        /* 0 means "every iteration": a time already passed stays due. */
        (void) sd_event_now(sd_event_source_get_event(w->source), CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(w->source, now + (uint64_t) w->interval_ms * 1000);
        (void) sd_event_source_set_enabled(w->source, SD_EVENT_ON);
}

static int timer_dispatch(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct watch *w = userdata;

        /* Re-arm first: the callback may update or remove the timer. */
        timer_arm(w);
        w->timeout_cb(w->id, w->opaque);
        return 0;
}

static int timeout_add(int interval_ms, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
        struct watch *w;
        int r;

        if (!loop.event)
                return -1;
        w = watch_new(true, opaque, ff);
        w->timeout_cb = cb;
        w->interval_ms = interval_ms;
        r = sd_event_add_time(loop.event, &w->source, CLOCK_MONOTONIC, 0, TIMER_ACCURACY_USEC, timer_dispatch, w);
        if (r < 0) {
                (void) log_event_errno(LOG_ERR, r, MSGID_LIBVIRT_EVENT_LOOP, NULL,
                                       "libvirt event loop: cannot add a timer: %m");
                watch_unlink(w);
                free(w);
                return -1;
        }
        timer_arm(w);
        return w->id;
}

static void timeout_update(int id, int interval_ms)
{
        struct watch *w = watch_find(id);

        if (!w || !w->timer)
                return;
        w->interval_ms = interval_ms;
        timer_arm(w);
}

static int timeout_remove(int id)
{
        return watch_remove(id, true);
}

/* --- attach ------------------------------------------------------------- */

int virt_event_attach(sd_event *event)
{
        if (loop.users > 0 && loop.event != event)
                return -EBUSY;
        if (!loop.registered) {
                virEventRegisterImpl(handle_add, handle_update, handle_remove,
                                     timeout_add, timeout_update, timeout_remove);
                loop.registered = true;
        }
        if (loop.users++ == 0)
                loop.event = sd_event_ref(event);
        return 0;
}

void virt_event_detach(sd_event *event)
{
        if (loop.users == 0 || loop.event != event)
                return;
        if (--loop.users == 0)
                loop.event = sd_event_unref(loop.event);
}

size_t virt_event_n_watches(void)
{
        size_t n = 0;

        for (struct watch *w = loop.watches; w; w = w->next)
                n++;
        return n;
}
