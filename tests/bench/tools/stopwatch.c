/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stopwatch: how long a daemon takes to apply its profile, and to stop,
 * to the millisecond, for tests/bench/idle-cost (a shell's `date` costs a
 * fork per look, as much as what vmtuned is timed doing).
 *
 *   stopwatch start LOG PATTERN -- CMD [ARG...]
 *       starts CMD with stdout and stderr appended to LOG and polls LOG
 *       every 0.5 ms until PATTERN appears (the daemon's "applied" line);
 *       prints "PID MS" and leaves CMD running. Exit 1 if CMD exits first
 *       or 60 s pass.
 *   stopwatch stop PID [LOG PATTERN]
 *       sends SIGTERM and polls until PID is gone (or a zombie: it may
 *       have been handed to a PID 1 that reaps late); prints MS. With LOG
 *       and PATTERN, first the time until PATTERN is written to LOG after
 *       the signal (the daemon's "values restored" line), then MS. Exit 1
 *       after 60 s.
 *
 * Monotonic clock; the figure is the wall time a person or a unit waits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 500000L
#define TIMEOUT_MS 60000.0

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void nap(void)
{
        nanosleep(&(struct timespec){ .tv_nsec = POLL_NS }, NULL);
}

/* PATTERN in the part of LOG from byte from on. */
static int log_has(const char *path, off_t from, const char *pattern)
{
        static char buf[1 << 20];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return 0;
        n = pread(fd, buf, sizeof(buf) - 1, from);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        return strstr(buf, pattern) != NULL;
}

static int start(const char *log, const char *pattern, char **argv)
{
        double t0 = now_ms();
        pid_t pid = fork();

        if (pid < 0)
                return perror("fork"), 1;
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

                if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                        _exit(127);
                execvp(argv[0], argv);
                _exit(127);
        }
        while (now_ms() - t0 < TIMEOUT_MS) {
                if (log_has(log, 0, pattern)) {
                        printf("%d %.1f\n", (int) pid, now_ms() - t0);
                        return 0;
                }
                if (waitpid(pid, NULL, WNOHANG) == pid) {
                        fprintf(stderr, "stopwatch: %s exited before \"%s\" (see %s)\n", argv[0], pattern, log);
                        return 1;
                }
                nap();
        }
        fprintf(stderr, "stopwatch: no \"%s\" in %s after %.0f s\n", pattern, log, TIMEOUT_MS / 1e3);
        return 1;
}

/* Gone, or a zombie: "PID (comm) Z ..." */
static int gone(pid_t pid)
{
        char path[64], buf[512], *p;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return 1;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        p = p ? strrchr(buf, ')') : NULL;
        return p && p[1] == ' ' && p[2] == 'Z';
}

static off_t log_size(const char *path)
{
        struct stat st;

        return path && stat(path, &st) == 0 ? st.st_size : 0;
}

static int stop(pid_t pid, const char *log, const char *pattern)
{
        off_t from = log_size(log);
        double t0 = now_ms();
        bool said = !log;

        if (kill(pid, SIGTERM) < 0)
                return perror("kill"), 1;
        while (now_ms() - t0 < TIMEOUT_MS) {
                if (!said && log_has(log, from, pattern)) {
                        printf("%.1f ", now_ms() - t0);
                        said = true;
                }
                if (gone(pid)) {
                        /* Said just before it went: the poll missed the gap. */
                        if (!said && log_has(log, from, pattern))
                                printf("%.1f ", now_ms() - t0);
                        else if (!said)
                                printf("- ");
                        printf("%.1f\n", now_ms() - t0);
                        return 0;
                }
                nap();
        }
        fprintf(stderr, "stopwatch: %d still running after %.0f s\n", (int) pid, TIMEOUT_MS / 1e3);
        return 1;
}

int main(int argc, char **argv)
{
        if (argc >= 6 && strcmp(argv[1], "start") == 0 && strcmp(argv[4], "--") == 0)
                return start(argv[2], argv[3], argv + 5);
        if (argc == 3 && strcmp(argv[1], "stop") == 0)
                return stop((pid_t) atoi(argv[2]), NULL, NULL);
        if (argc == 5 && strcmp(argv[1], "stop") == 0)
                return stop((pid_t) atoi(argv[2]), argv[3], argv[4]);
        fprintf(stderr, "usage: stopwatch start LOG PATTERN -- CMD [ARG...] | stopwatch stop PID [LOG PATTERN]\n");
        return 2;
}
