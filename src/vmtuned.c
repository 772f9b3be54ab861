/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmtuned: command line, then hand over to the daemon. */
#include <getopt.h>
#include <stdio.h>

#include "args.h"
#include "base/log.h"
#include "base/util.h"
#include "config/profile.h"
#include "daemon/check-config.h"
#include "daemon/commands.h"
#include "daemon/daemon.h"
#include "daemon/state.h"

static void help(void)
{
        printf("Usage: vmtuned [OPTIONS]\n"
               "Host tuning daemon for KVM/libvirt hypervisors.\n\n"
               "  -c, --config FILE       configuration file (default " SYSCONFDIR "/vmtuned.conf;\n"
               "                          a missing default file means built-in defaults)\n"
               "  -p, --profile NAME      use this profile instead of the configuration's profile=\n"
               "  -P, --profile-dir DIR   search profiles here (repeatable, later wins); replaces\n"
               "                          " DATADIR "/vmtuned/profiles and " SYSCONFDIR "/vmtuned/profiles\n"
               "  -r, --root DIR          prefix for every /proc and /sys path (default /; for tests)\n"
               "  -R, --runtime-dir DIR   rollback journal and control socket (default /run/vmtuned)\n"
               "  -S, --state-dir DIR     where the profile chosen with vmtunectl is kept\n"
               "                          (default " STATE_DEFAULT_DIR ")\n"
               "  -n, --dry-run           log every change, write nothing\n"
               "  -f, --foreground        log readable lines to stderr instead of the journal\n"
               "  -t, --check-config      validate the configuration and profile, print the\n"
               "                          resolved settings, and exit\n"
               "      --strict            with --check-config: exit 1 if a key is not on this kernel\n"
               "  -h, --help              show this help\n"
               "  -V, --version           show the version\n\n"
               "Signals: SIGTERM/SIGINT restore every original value and stop; SIGHUP reloads.\n"
               "See vmtuned(8), vmtuned.conf(5), vmtuned-profiles(7), vmtunectl(8).\n");
}

static void add_profile_dir(struct args *a, const char *dir)
{
        a->profile_dirs = xreallocarray(a->profile_dirs, a->n_profile_dirs + 1, sizeof(*a->profile_dirs));
        a->profile_dirs[a->n_profile_dirs++] = dir;
}

/* Long options without a letter. */
enum { OPT_STRICT = 0x100 };

static int parse_args(int argc, char **argv, struct args *a)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "profile", required_argument, NULL, 'p' },
                { "profile-dir", required_argument, NULL, 'P' },
                { "root", required_argument, NULL, 'r' },
                { "runtime-dir", required_argument, NULL, 'R' },
                { "state-dir", required_argument, NULL, 'S' },
                { "dry-run", no_argument, NULL, 'n' },
                { "foreground", no_argument, NULL, 'f' },
                { "check-config", no_argument, NULL, 't' },
                { "strict", no_argument, NULL, OPT_STRICT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {}
        };
        int c;

        *a = (struct args){ .root = "/", .runtime_dir = "/run/vmtuned", .state_dir = STATE_DEFAULT_DIR };
        while ((c = getopt_long(argc, argv, "c:p:P:r:R:S:nfthV", options, NULL)) >= 0) {
                switch (c) {
                case 'c': a->config_file = optarg; break;
                case 'p': a->profile = optarg; break;
                case 'P': add_profile_dir(a, optarg); break;
                case 'r': a->root = optarg; break;
                case 'R': a->runtime_dir = optarg; break;
                case 'S': a->state_dir = optarg; break;
                case 'n': a->dry_run = true; break;
                case 'f': a->foreground = true; break;
                case 't': a->check_config = true; break;
                case OPT_STRICT: a->strict = true; break;
                case 'h': help(); return 0;
                case 'V': printf("vmtuned " VMTUNED_VERSION "\n"); return 0;
                default: return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "vmtuned: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (a->strict && !a->check_config) {
                fprintf(stderr, "vmtuned: --strict goes with --check-config\n");
                return -EINVAL;
        }
        /* --profile-dir replaces the default search path as a whole. */
        if (a->n_profile_dirs == 0)
                for (size_t i = 0; profile_default_dirs[i]; i++)
                        add_profile_dir(a, profile_default_dirs[i]);
        return 1;
}

int main(int argc, char **argv)
{
        struct args args;
        int r;

        r = parse_args(argc, argv, &args);
        if (r <= 0) {
                free(args.profile_dirs);
                return r < 0 ? EXIT_CONFIG : EXIT_OK;
        }
        /* The journal when systemd runs us, stderr when a person does. */
        log_setup(args.foreground || args.check_config ? LOG_TARGET_STDERR : LOG_TARGET_JOURNAL, LOG_INFO);
        /* The daemon serves the control commands, and does not know them. */
        r = args.check_config ? check_config_run(&args) : daemon_run(&args, commands_table);
        free(args.profile_dirs);
        return r;
}
