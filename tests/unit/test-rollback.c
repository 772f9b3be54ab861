/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rollback journal: its format, its durability, and restore on a
 * fixture tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/kfile.h"
#include "base/log.h"
#include "tuning/rollback.h"
#include "testlib.h"

struct fixture {
        char *dir;              /* kernel tree at dir/root, runtime dir at dir/run */
        const char *root_dir;   /* dir/root: root's own path */
        const char *run_dir;    /* dir/run: rb's own directory */
        struct kroot root;
        struct rollback *rb;
};

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-rollback");
        tl_write(f->dir, "root/proc/sys/vm/swappiness", "60\n");
        tl_write(f->dir, "root/proc/sys/vm/dirty_ratio", "20\n");
        tl_write(f->dir, "root/sys/kernel/mm/ksm/run", "0\n");
        tl_open_root_and_journal(f->dir, &f->root, &f->rb);
        f->root_dir = f->root.path;
        f->run_dir = f->rb->dir;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        tl_close_root_and_journal(f->dir, &f->root, f->rb);
        free(f);
        return 0;
}

/* Parse the journal as it is on disk now. */
static size_t parse_journal_file(const struct fixture *f, struct rollback_entry **ret)
{
        _cleanup_free_ char *text = tl_read(f->dir, "run/rollback");
        size_t n = 0;

        assert_non_null(text);
        assert_int_equal(rollback_parse(text, ret, &n), 0);
        return n;
}

static void test_format_parse_round_trip_keeps_tabs_newlines_and_backslashes(void **state)
{
        const struct rollback_entry in[] = {
                { "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10", NULL, false },
                { "sysctl net.ipv4.tcp_rmem", "proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456",
                  "a\\b\nc\\\\t", NULL, false },
                { "odd \\t key", "sys/x", "", "\n", NULL, false },
        };
        _cleanup_free_ char *text = rollback_format(in, ARRAY_SIZE(in));
        struct rollback_entry *out = NULL;
        size_t n = 0;

        assert_int_equal(rollback_parse(text, &out, &n), 0);
        assert_int_equal(n, ARRAY_SIZE(in));
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(out[i].key, in[i].key);
                assert_string_equal(out[i].path, in[i].path);
                assert_string_equal(out[i].original, in[i].original);
                assert_string_equal(out[i].written, in[i].written);
        }
        rollback_entries_free(out, n);
}

static void test_format_is_header_then_one_escaped_line_per_entry(void **state)
{
        const struct rollback_entry in[] = {
                { "sysctl a.b", "proc/sys/a/b", "1\t2", "x\\y\nz", NULL, false },
        };
        _cleanup_free_ char *text = rollback_format(in, ARRAY_SIZE(in));
        _cleanup_free_ char *empty = rollback_format(NULL, 0);

        assert_string_equal(text, "# vmtuned rollback journal v1\n"
                                  "sysctl a.b\tproc/sys/a/b\t1\\t2\tx\\\\y\\nz\n");
        assert_string_equal(empty, "# vmtuned rollback journal v1\n");
}

static void assert_corrupt_at(const char *text, unsigned line)
{
        struct rollback_entry *e = (struct rollback_entry *) 0x1;
        size_t n = 77;
        unsigned bad = 0;

        assert_int_equal(rollback_parse(text, &e, &n), -EBADMSG);
        assert_ptr_equal(e, (struct rollback_entry *) 0x1); /* outputs untouched */
        assert_int_equal(n, 77);
        assert_int_equal(rollback_parse_at(text, &e, &n, &bad), -EBADMSG);
        assert_int_equal(bad, line);
}

static void test_corrupt_journal_is_rejected_with_ebadmsg_and_its_line(void **state)
{
#define H "# vmtuned rollback journal v1\n"
#define OK "sysctl a\tproc/sys/a\t1\t2\n"
        assert_corrupt_at("", 1);
        assert_corrupt_at("# something else\n" OK, 1);
        assert_corrupt_at(H OK "sysctl b\tproc/sys/b\t1\n", 3);          /* three fields */
        assert_corrupt_at(H OK OK "k\tproc/sys/c\t1\t2\t3\t4\n", 4);      /* six fields */
        assert_corrupt_at(H "k\tproc/sys/c\t1\\x\t2\n", 2);              /* unknown escape */
        assert_corrupt_at(H "k\tproc/sys/c\t1\t2\\\n", 2);               /* dangling backslash */
        assert_corrupt_at(H "k\t../etc/passwd\t1\t2\n", 2);              /* path escapes the root */
        assert_corrupt_at(H "k\t/etc/passwd\t1\t2\n", 2);
        assert_corrupt_at(H "\tproc/sys/a\t1\t2\n", 2);                  /* no key */
        assert_corrupt_at(H OK "\n", 3);                                  /* blank line */
        assert_corrupt_at(H OK "k\tproc/sys/b\t1\t2", 3);                 /* truncated */
#undef H
#undef OK
}

static void test_record_leaves_a_durable_journal_file_and_no_temporary(void **state)
{
        struct fixture *f = *state;
        struct rollback_entry *e = NULL;
        struct stat st;
        size_t n;

        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        n = parse_journal_file(f, &e);
        assert_int_equal(n, 1);
        assert_string_equal(e[0].key, "sysctl vm.swappiness");
        assert_string_equal(e[0].path, "proc/sys/vm/swappiness");
        assert_string_equal(e[0].original, "60");
        assert_string_equal(e[0].written, "10");
        rollback_entries_free(e, n);
        assert_false(tl_exists(f->dir, "run/rollback.tmp"));
        /* The journal is private: it says what to write where. The dir is
         * 0755 so a control_group member can reach the socket in it. */
        assert_int_equal(stat(f->run_dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        char journal[600];
        snprintf(journal, sizeof(journal), "%s/rollback", f->run_dir);
        assert_int_equal(stat(journal, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_record_of_a_recorded_path_keeps_the_first_original(void **state)
{
        struct fixture *f = *state;
        struct rollback_entry *e = NULL;
        size_t n;

        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "10", "5"), 0);
        assert_int_equal(f->rb->n_entries, 1);
        n = parse_journal_file(f, &e);
        assert_int_equal(n, 1);
        assert_string_equal(e[0].original, "60");
        assert_string_equal(e[0].written, "5");
        rollback_entries_free(e, n);
}

/* A rewrite keeps what vmtuned wrote before as previous, in the file,
 * until the kernel has the new value; then the next journal write drops
 * it. Journals of four fields (before) still load. */
static void test_rewrite_in_flight_keeps_the_previous_value_until_written(void **state)
{
        struct fixture *f = *state;
        struct rollback_entry *e = NULL;
        size_t n;

        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        n = parse_journal_file(f, &e);
        assert_null(e[0].previous);                     /* a first write has none */
        rollback_entries_free(e, n);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "10", "5"), 0);
        n = parse_journal_file(f, &e);
        assert_int_equal(n, 1);
        assert_string_equal(e[0].original, "60");
        assert_string_equal(e[0].written, "5");
        assert_string_equal(e[0].previous, "10");       /* on disk before the kernel write */
        rollback_entries_free(e, n);
        rollback_write_done(f->rb, "proc/sys/vm/swappiness");
        assert_null(rollback_find(f->rb, "proc/sys/vm/swappiness")->previous);
        /* no write of its own; the next record writes the file without it */
        n = parse_journal_file(f, &e);
        assert_string_equal(e[0].previous, "10");
        rollback_entries_free(e, n);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "20", "5"), 0);
        n = parse_journal_file(f, &e);
        assert_int_equal(n, 2);
        assert_null(e[0].previous);
        rollback_entries_free(e, n);
        /* the same value again is no rewrite */
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "5", "5"), 0);
        assert_null(rollback_find(f->rb, "proc/sys/vm/dirty_ratio")->previous);
        /* a value the kernel holds already has nothing in flight */
        assert_int_equal(rollback_record_held(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "5", "7"), 0);
        assert_null(rollback_find(f->rb, "proc/sys/vm/dirty_ratio")->previous);
        assert_string_equal(rollback_find(f->rb, "proc/sys/vm/dirty_ratio")->written, "7");
        assert_string_equal(rollback_find(f->rb, "proc/sys/vm/dirty_ratio")->original, "20");
        /* four fields and five both load */
        assert_int_equal(rollback_parse("# vmtuned rollback journal v1\nk\tproc/sys/a\t1\t2\n"
                                        "k\tproc/sys/b\t1\t3\t2\n", &e, &n), 0);
        assert_int_equal(n, 2);
        assert_null(e[0].previous);
        assert_string_equal(e[1].previous, "2");
        rollback_entries_free(e, n);
}

/* Killed between journaling a rewrite and making it: the kernel still has
 * the previous value, which is vmtuned's, so the stop restores the
 * original. Before, it took it for someone else's and the original was
 * lost (the chaos run: "LOST original of dirty_background_ratio"). */
static void test_restore_takes_the_previous_value_of_a_rewrite_in_flight_as_ours(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL, *other = NULL;

        tl_write(f->dir, "root/proc/sys/vm/dirty_background_ratio", "5\n");
        tl_write(f->dir, "root/proc/sys/vm/dirty_ratio", "33\n");
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_background_ratio",
                                         "proc/sys/vm/dirty_background_ratio", "10", "5"), 0);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_background_ratio",
                                         "proc/sys/vm/dirty_background_ratio", "5", "7"), 0);
        /* a finished rewrite whose value someone else changed since */
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "20", "40"), 0);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "40", "33"), 0);
        rollback_write_done(f->rb, "proc/sys/vm/dirty_ratio");
        tl_write(f->dir, "root/proc/sys/vm/dirty_ratio", "40\n");
        /* the next journal write (here a third key's) drops dirty_ratio's previous */
        tl_write(f->dir, "root/proc/sys/vm/swappiness", "10\n");
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        /* the kernel write of 7 never happened: killed, and a new daemon stops */
        tl_journal_owner_died(f->rb);
        {
                struct rollback *again = NULL;
                bool stale = false;

                assert_int_equal(rollback_open(f->run_dir, &again, &stale), 0);
                assert_true(stale);
                assert_string_equal(rollback_find(again, "proc/sys/vm/dirty_background_ratio")->previous, "5");
                assert_int_equal(rollback_restore_all(again, &f->root), 1);   /* dirty_ratio: someone else's */
                rollback_free(again);
        }
        content = tl_read(f->dir, "root/proc/sys/vm/dirty_background_ratio");
        assert_string_equal(content, "10\n");
        other = tl_read(f->dir, "root/proc/sys/vm/dirty_ratio");
        assert_string_equal(other, "40\n");
}

static void test_forget_removes_the_entry_from_the_file(void **state)
{
        struct fixture *f = *state;
        struct rollback_entry *e = NULL;
        size_t n;

        assert_int_equal(rollback_record(f->rb, "a", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(rollback_record(f->rb, "b", "proc/sys/vm/dirty_ratio", "20", "5"), 0);
        assert_int_equal(rollback_forget(f->rb, "proc/sys/vm/swappiness"), 0);
        assert_int_equal(rollback_forget(f->rb, "proc/sys/vm/never_recorded"), 0);
        n = parse_journal_file(f, &e);
        assert_int_equal(n, 1);
        assert_string_equal(e[0].path, "proc/sys/vm/dirty_ratio");
        rollback_entries_free(e, n);
        assert_null(rollback_find(f->rb, "proc/sys/vm/swappiness"));
        assert_non_null(rollback_find(f->rb, "proc/sys/vm/dirty_ratio"));
}

static void test_second_open_finds_the_stale_journal_of_a_dead_run(void **state)
{
        struct fixture *f = *state;
        struct rollback *again = NULL;
        bool stale = false;

        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness",
                                         "60", "10\twith tab"), 0);
        /* No free, no restore: as if killed with -9. */
        tl_journal_owner_died(f->rb);
        assert_int_equal(rollback_open(f->run_dir, &again, &stale), 0);
        assert_true(stale);
        assert_int_equal(again->n_entries, 1);
        assert_string_equal(again->entries[0].original, "60");
        assert_string_equal(again->entries[0].written, "10\twith tab");
        rollback_free(again);
}

/* Killed between creating the temporary journal and the rename: the next
 * open removes the temporary file and reads the journal. Before, it
 * outlived the next run's clean stop (the chaos run: "the rollback journal
 * is still there after a clean stop: rollback.tmp"). */
static void test_open_removes_a_temporary_journal_a_dead_run_left(void **state)
{
        struct fixture *f = *state;
        struct rollback *again = NULL;
        bool stale = false;
        char tmp[600];

        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        tl_journal_owner_died(f->rb);
        snprintf(tmp, sizeof(tmp), "%s/rollback.tmp", f->run_dir);
        tl_write(f->run_dir, "rollback.tmp", "# vmtuned rollback journal v1\nhalf a line");
        assert_int_equal(rollback_open(f->run_dir, &again, &stale), 0);
        assert_true(stale);
        assert_int_equal(again->n_entries, 1);
        assert_string_equal(again->entries[0].written, "10");
        assert_int_equal(access(tmp, F_OK), -1);
        rollback_free(again);
}

static void test_open_of_a_corrupt_journal_fails_with_ebadmsg(void **state)
{
        struct fixture *f = *state;
        struct rollback *rb = NULL;
        bool stale = false;

        tl_write(f->dir, "run/rollback", "# vmtuned rollback journal v1\nbroken line\n");
        tl_journal_owner_died(f->rb);
        assert_int_equal(rollback_open(f->run_dir, &rb, &stale), -EBADMSG);
        assert_null(rb);
        /* Never silently dropped: the file is still there for a person to read. */
        assert_true(tl_exists(f->dir, "run/rollback"));
}

static void test_restore_writes_the_original_back_when_the_value_is_ours(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL;

        tl_write(f->dir, "root/proc/sys/vm/swappiness", "10\n");
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        content = tl_read(f->dir, "root/proc/sys/vm/swappiness");
        assert_string_equal(content, "60\n");
        assert_false(tl_exists(f->dir, "run/rollback"));
        assert_int_equal(f->rb->n_entries, 0);
}

static void test_restore_leaves_a_drifted_value_alone_and_counts_it(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *swappiness = NULL, *dirty = NULL;

        tl_write(f->dir, "root/proc/sys/vm/swappiness", "30\n"); /* someone else's */
        tl_write(f->dir, "root/proc/sys/vm/dirty_ratio", "5\n");  /* ours */
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "20", "5"), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        swappiness = tl_read(f->dir, "root/proc/sys/vm/swappiness");
        dirty = tl_read(f->dir, "root/proc/sys/vm/dirty_ratio");
        assert_string_equal(swappiness, "30\n");
        assert_string_equal(dirty, "20\n");
        assert_false(tl_exists(f->dir, "run/rollback"));
}

static void test_restore_leaves_a_value_already_at_its_original_untouched(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL;

        /* Odd white space: a rewrite would leave "60\n". */
        tl_write(f->dir, "root/proc/sys/vm/swappiness", "  60 \n");
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        content = tl_read(f->dir, "root/proc/sys/vm/swappiness");
        assert_string_equal(content, "  60 \n");
}

static void test_restore_counts_a_knob_that_went_away(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL;

        tl_write(f->dir, "root/sys/kernel/mm/ksm/run", "1\n");
        assert_int_equal(rollback_record(f->rb, "ksm run", "sys/kernel/mm/ksm/run", "0", "1"), 0);
        assert_int_equal(rollback_record(f->rb, "disk vdb read_ahead_kb",
                                         "sys/block/vdb/queue/read_ahead_kb", "128", "4096"), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        content = tl_read(f->dir, "root/sys/kernel/mm/ksm/run");
        assert_string_equal(content, "0\n");
}

/* Issue 12: an entry that could not be read at restore was dropped and
 * the journal deleted, so that original was lost for good. Now it stays
 * in the journal until it can be put back. */
static void test_restore_keeps_an_entry_it_cannot_read_now_and_restores_it_later(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL;
        _cleanup_free_ char *file = xasprintf("%s/root/proc/sys/vm/swappiness", f->dir);
        _cleanup_free_ char *saved = xasprintf("%s.saved", file);
        struct rollback_entry *on_disk = NULL;

        tl_write(f->dir, "root/proc/sys/vm/swappiness", "10\n");
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "20", "40"), 0);
        tl_write(f->dir, "root/proc/sys/vm/dirty_ratio", "40\n");
        /* A read error that is not "gone": a directory where the file was (EISDIR). */
        assert_int_equal(rename(file, saved), 0);
        assert_int_equal(mkdir(file, 0755), 0);

        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        content = tl_read(f->dir, "root/proc/sys/vm/dirty_ratio");
        assert_string_equal(content, "20\n");
        assert_int_equal(f->rb->n_entries, 1);
        assert_string_equal(f->rb->entries[0].path, "proc/sys/vm/swappiness");
        assert_int_equal(parse_journal_file(f, &on_disk), 1);
        assert_string_equal(on_disk[0].original, "60");
        rollback_entries_free(on_disk, 1);

        /* Readable again: the next restore puts it back and removes the journal. */
        assert_int_equal(rmdir(file), 0);
        assert_int_equal(rename(saved, file), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        free(content);
        content = tl_read(f->dir, "root/proc/sys/vm/swappiness");
        assert_string_equal(content, "60\n");
        assert_int_equal(f->rb->n_entries, 0);
        assert_false(tl_exists(f->dir, "run/rollback"));
}

static bool wants_swappiness(const char *path, void *userdata)
{
        return streq(path, "proc/sys/vm/swappiness");
}

/* The reconciling restore: what the next plan wants keeps its entry and
 * first original, untouched; the rest goes back. */
static void test_restore_unwanted_keeps_wanted_entries_untouched(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *swappiness = NULL, *dirty = NULL;
        struct rollback_entry *on_disk = NULL;
        _cleanup_free_ char *journal = xasprintf("%s/run/rollback", f->dir);
        struct stat before, after;

        tl_write(f->dir, "root/proc/sys/vm/swappiness", "10\n");
        tl_write(f->dir, "root/proc/sys/vm/dirty_ratio", "40\n");
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(rollback_record(f->rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "20", "40"), 0);
        assert_int_equal(rollback_restore_unwanted(f->rb, &f->root, wants_swappiness, NULL), 0);
        swappiness = tl_read(f->dir, "root/proc/sys/vm/swappiness");
        dirty = tl_read(f->dir, "root/proc/sys/vm/dirty_ratio");
        assert_string_equal(swappiness, "10\n");
        assert_string_equal(dirty, "20\n");
        assert_int_equal(f->rb->n_entries, 1);
        assert_int_equal(parse_journal_file(f, &on_disk), 1);
        assert_string_equal(on_disk[0].path, "proc/sys/vm/swappiness");
        assert_string_equal(on_disk[0].original, "60");
        rollback_entries_free(on_disk, 1);

        /* Everything wanted: not even the journal is rewritten. */
        assert_int_equal(stat(journal, &before), 0);
        assert_int_equal(rollback_restore_unwanted(f->rb, &f->root, wants_swappiness, NULL), 0);
        assert_int_equal(stat(journal, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(f->rb->n_entries, 1);
}

static void test_restore_compares_the_selected_scheduler(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL;
        const char *path = "sys/block/vda/queue/scheduler";

        tl_write(f->dir, "root/sys/block/vda/queue/scheduler", "none [mq-deadline] kyber\n");
        assert_int_equal(rollback_record(f->rb, "disk vda scheduler", path, "none", "mq-deadline"), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        content = tl_read(f->dir, "root/sys/block/vda/queue/scheduler");
        assert_string_equal(content, "none\n");
}

static void test_restore_goes_in_reverse_order(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL;
        const char *path = "proc/sys/vm/swappiness";

        /* Two journals' worth of entries for one file (a stale journal
         * loaded by hand): the first original must be the last write. */
        tl_write(f->dir, "root/proc/sys/vm/swappiness", "10\n");
        f->rb->entries = xreallocarray(f->rb->entries, 2, sizeof(*f->rb->entries));
        f->rb->entries[0] = (struct rollback_entry){ xstrdup("a"), xstrdup(path), xstrdup("60"), xstrdup("30"), NULL, false };
        f->rb->entries[1] = (struct rollback_entry){ xstrdup("b"), xstrdup(path), xstrdup("30"), xstrdup("10"), NULL, false };
        f->rb->n_entries = 2;
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        content = tl_read(f->dir, "root/proc/sys/vm/swappiness");
        assert_string_equal(content, "60\n");
}

static void test_restore_in_dry_run_changes_nothing_and_keeps_the_journal(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *content = NULL;
        struct kroot dry;

        tl_write(f->dir, "root/proc/sys/vm/swappiness", "10\n");
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        assert_int_equal(kroot_open(f->root_dir, true, &dry), 0);
        assert_int_equal(rollback_restore_all(f->rb, &dry), 0);
        kroot_close(&dry);
        content = tl_read(f->dir, "root/proc/sys/vm/swappiness");
        assert_string_equal(content, "10\n");
        assert_true(tl_exists(f->dir, "run/rollback"));
        assert_int_equal(f->rb->n_entries, 1);
}

static void test_restore_without_a_journal_is_a_no_op(void **state)
{
        struct fixture *f = *state;

        assert_false(tl_exists(f->dir, "run/rollback"));
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_parse_round_trip_keeps_tabs_newlines_and_backslashes),
                cmocka_unit_test(test_format_is_header_then_one_escaped_line_per_entry),
                cmocka_unit_test(test_corrupt_journal_is_rejected_with_ebadmsg_and_its_line),
                T(test_record_leaves_a_durable_journal_file_and_no_temporary),
                T(test_record_of_a_recorded_path_keeps_the_first_original),
                T(test_rewrite_in_flight_keeps_the_previous_value_until_written),
                T(test_restore_takes_the_previous_value_of_a_rewrite_in_flight_as_ours),
                T(test_forget_removes_the_entry_from_the_file),
                T(test_second_open_finds_the_stale_journal_of_a_dead_run),
                T(test_open_removes_a_temporary_journal_a_dead_run_left),
                T(test_open_of_a_corrupt_journal_fails_with_ebadmsg),
                T(test_restore_writes_the_original_back_when_the_value_is_ours),
                T(test_restore_leaves_a_drifted_value_alone_and_counts_it),
                T(test_restore_leaves_a_value_already_at_its_original_untouched),
                T(test_restore_counts_a_knob_that_went_away),
                T(test_restore_keeps_an_entry_it_cannot_read_now_and_restores_it_later),
                T(test_restore_unwanted_keeps_wanted_entries_untouched),
                T(test_restore_compares_the_selected_scheduler),
                T(test_restore_goes_in_reverse_order),
                T(test_restore_in_dry_run_changes_nothing_and_keeps_the_journal),
                T(test_restore_without_a_journal_is_a_no_op),
        };
#undef T

        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
