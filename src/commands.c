/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What vmtunectl can ask: one handler per command, each formatting its own
 * answer (text, or JSON with --json) into the stream the control socket
 * sends back. */
#include <stdio.h>

#include "daemon.h"
#include "domain.h"
#include "virt.h"

static int cmd_domains(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        const struct domain *doms = NULL;
        size_t n = 0;

        if (argc > 1) {
                fprintf(out, "usage: vmtunectl domains\n");
                return 2;
        }
        if (d->virt)
                doms = virt_domains(d->virt, &n);
        if (!json && d->virt && !virt_is_connected(d->virt))
                fprintf(out, "libvirt: not connected (retrying in the background)\n");
        domains_print(out, doms, n, json);
        return 0;
}

static int cmd_reload(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;

        if (daemon_reload(d) < 0) {
                fprintf(out, "reload failed; the running configuration stays (see the journal)\n");
                return 1;
        }
        return 0;
}

size_t commands_table(struct daemon *d, const struct control_command **ret)
{
        /* One daemon per process: the table can be static, its userdata
         * is filled in here. */
        static struct control_command table[] = {
                { "domains", "domains", true, cmd_domains, NULL },
                { "reload", "reload", false, cmd_reload, NULL },
        };

        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                table[i].userdata = d;
        *ret = table;
        return ARRAY_SIZE(table);
}
