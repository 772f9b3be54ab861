/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): `vmtunectl advise` on real
 * libvirtd + QEMU (TCG) domains. The unit test reads hand-written XML; here
 * the XML is what libvirt itself reports for a running domain (defaults
 * filled in, a live <cpu> for TCG, the disk driver) and for a defined one.
 *
 * - vmt-adv-bad runs with the shortcomings the guides name: an IDE disk, a
 *   block disk (a loop device) with cache='writeback' and io='threads', an
 *   e1000 NIC (user networking), no CPU model, no balloon while KSM runs;
 * - vmt-adv-big is only defined: 8 GiB in 4 KiB pages, more vCPUs than the
 *   host has CPUs;
 * - vmt-adv-good runs done right: virtio disk on the block device with
 *   cache='none' io='native', CPU mode 'maximum' (TCG's host-passthrough:
 *   libvirt refuses host-passthrough without KVM), a virtio balloon. It has
 *   no NIC: this host has no /dev/vhost-net, so a virtio NIC would be
 *   rightly advised to get one.
 * KSM runs because the daemon's profile says run=1, and goes back with it.
 * Every domain, loop device and daemon is removed again, also when an
 * assertion fails. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"

#define VIRSH "/usr/bin/virsh"

static const char *const domains[] = { "vmt-adv-bad", "vmt-adv-big", "vmt-adv-good" };
static char *workdir;
static char loopdev[2][64];          /* /dev/loopN attached to workdir/blockN.img */
static char ksm_run_before[16];
static struct tl_daemon daemon_run;
static bool libvirtd_ours = true;    /* false: someone else's libvirtd, whose domains are not ours to destroy */

static const char *losetup_bin(void)
{
        return access("/usr/sbin/losetup", X_OK) == 0 ? "/usr/sbin/losetup" : "/sbin/losetup";
}

static void cleanup(void)
{
        if (daemon_run.pid > 0)
                (void) tl_daemon_stop(&daemon_run, SIGTERM);
        for (size_t i = 0; i < sizeof(domains) / sizeof(*domains); i++)
                free(tl_vm(NULL, "destroy", domains[i], NULL));
        for (size_t i = 0; i < 2; i++)
                if (loopdev[i][0]) {
                        char *argv[] = { (char *) losetup_bin(), (char *) "-d", loopdev[i], NULL };

                        free(tl_run_trimmed(argv, NULL));
                        loopdev[i][0] = '\0';
                }
        if (libvirtd_ours)
                free(tl_vm(NULL, "libvirtd-down", NULL));
}

static int virsh(const char *verb, const char *xml_file)
{
        char *argv[] = { (char *) VIRSH, (char *) "-q", (char *) "-c", (char *) "qemu:///system", (char *) verb,
                         (char *) xml_file, NULL };
        int code;
        char *out = tl_run_trimmed(argv, &code);

        if (code != 0)
                fprintf(stderr, "virsh %s %s: %s\n", verb, xml_file, out);
        free(out);
        return code;
}

/* A domain of name, vcpus, MiB and the given <cpu>/<devices> parts, which
 * boots nothing (SeaBIOS finds no bootable disk and waits): advise reads
 * the XML, no guest is needed. */
static char *domain_xml(const char *name, int vcpus, long mib, const char *cpu, const char *devices)
{
        char *xml;

        if (asprintf(&xml,
                     "<domain type='qemu'>\n"
                     "  <name>%s</name>\n"
                     "  <memory unit='MiB'>%ld</memory>\n"
                     "  <vcpu placement='static'>%d</vcpu>\n"
                     "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                     "%s"
                     "  <features><acpi/><apic/></features>\n"
                     "  <on_poweroff>destroy</on_poweroff>\n"
                     "  <devices>\n"
                     "    <controller type='usb' model='none'/>\n"
                     "    <video><model type='none'/></video>\n"
                     "%s"
                     "  </devices>\n"
                     "</domain>\n",
                     name, mib, vcpus, cpu, devices) < 0)
                abort();
        return xml;
}

static int write_and_virsh(const char *verb, const char *name, char *xml)
{
        char rel[128], path[640];

        snprintf(rel, sizeof(rel), "%s.xml", name);
        snprintf(path, sizeof(path), "%s/%s", workdir, rel);
        tl_write(workdir, rel, xml);
        free(xml);
        return virsh(verb, path);
}

/* A new 64 MiB file workdir/rel (sparse). */
static int make_image(const char *rel, char *path, size_t size)
{
        char *argv[] = { (char *) "/usr/bin/truncate", (char *) "-s", (char *) "64M", path, NULL };

        snprintf(path, size, "%s/%s", workdir, rel);
        return tl_run(argv, NULL);
}

/* A loop device on a new image, as loopdev[i]: the domains' block disks. */
static int attach_loop(size_t i)
{
        char image[600], rel[32];
        char *argv[] = { (char *) losetup_bin(), (char *) "-f", (char *) "--show", image, NULL };
        char *out;
        int code;

        snprintf(rel, sizeof(rel), "block%zu.img", i);
        if (make_image(rel, image, sizeof(image)) != 0)
                return -1;
        out = tl_run_trimmed(argv, &code);
        if (code != 0 || strncmp(out, "/dev/loop", 9) != 0) {
                fprintf(stderr, "losetup -f --show %s: %s\n", image, out);
                free(out);
                return -1;
        }
        snprintf(loopdev[i], sizeof(loopdev[i]), "%s", out);
        free(out);
        return 0;
}

static int setup(void **state)
{
        char profiles[600], image[600], dev[1200];
        char *out, *ksm;
        int code;

        if (!tl_running_as_root())
                return -1;
        atexit(cleanup);
        workdir = tl_mkdtemp("vmtuned-advise");
        /* QEMU runs as libvirt-qemu: it must reach the IDE image below here. */
        if (chmod(workdir, 0755) < 0)
                return -1;
        snprintf(profiles, sizeof(profiles), "%s/profiles", workdir);
        ksm = tl_read("/", "sys/kernel/mm/ksm/run");
        if (!ksm) {
                fprintf(stderr, "this kernel has no KSM: the memballoon advice needs it\n");
                return -1;
        }
        snprintf(ksm_run_before, sizeof(ksm_run_before), "%.*s", (int) strcspn(ksm, "\n"), ksm);
        free(ksm);
        tl_write(profiles, "ksm.conf", "[main]\nsummary = KSM on, nothing else\n[ksm]\nmode = on\nrun = 1\n");
        tl_write(workdir, "vmtuned.conf",
                 "[vmtuned]\nprofile = ksm\nlibvirt_uri = qemu:///system\n"
                 "[balancer]\nenabled = no\nkernel_numa_balancing = keep\n");

        if (attach_loop(0) < 0 || attach_loop(1) < 0 || make_image("ide.img", image, sizeof(image)) != 0)
                return -1;

        out = tl_vm(&code, "libvirtd-up", NULL);
        if (code != 0) {
                fprintf(stderr, "libvirtd-up: %s\n", out);
                free(out);
                return -1;
        }
        /* libvirtd-down would destroy every vmt- domain, also another run's. */
        libvirtd_ours = !strstr(out, "not ours");
        free(out);

        snprintf(dev, sizeof(dev),
                 "    <disk type='file' device='disk'>\n"
                 "      <driver name='qemu' type='raw'/>\n"
                 "      <source file='%s'/>\n"
                 "      <target dev='hda' bus='ide'/>\n"
                 "    </disk>\n"
                 "    <disk type='block' device='disk'>\n"
                 "      <driver name='qemu' type='raw' cache='writeback' io='threads'/>\n"
                 "      <source dev='%s'/>\n"
                 "      <target dev='vda' bus='virtio'/>\n"
                 "    </disk>\n"
                 "    <interface type='user'>\n"
                 "      <mac address='52:54:00:76:6d:01'/>\n"
                 "      <model type='e1000'/>\n"
                 "    </interface>\n"
                 "    <memballoon model='none'/>\n",
                 image, loopdev[0]);
        if (write_and_virsh("create", "vmt-adv-bad", domain_xml("vmt-adv-bad", 1, 128, "", dev)) != 0)
                return -1;
        if (write_and_virsh("define", "vmt-adv-big",
                            domain_xml("vmt-adv-big", 64, 8192, "  <cpu mode='maximum'/>\n",
                                       "    <memballoon model='virtio'/>\n")) != 0)
                return -1;
        snprintf(dev, sizeof(dev),
                 "    <disk type='block' device='disk'>\n"
                 "      <driver name='qemu' type='raw' cache='none' io='native'/>\n"
                 "      <source dev='%s'/>\n"
                 "      <target dev='vda' bus='virtio'/>\n"
                 "    </disk>\n"
                 "    <memballoon model='virtio'/>\n",
                 loopdev[1]);
        return write_and_virsh("create", "vmt-adv-good",
                               domain_xml("vmt-adv-good", 1, 128, "  <cpu mode='maximum'/>\n", dev)) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
        char *ksm;

        cleanup();
        ksm = tl_read("/", "sys/kernel/mm/ksm/run");
        if (ksm && strncmp(ksm, ksm_run_before, strlen(ksm_run_before)) != 0)
                fprintf(stderr, "KSM run is %s after the daemon stopped, was %s\n", ksm, ksm_run_before);
        free(ksm);
        tl_daemon_free(&daemon_run);
        tl_rm_rf(workdir);
        free(workdir);
        return 0;
}

static void start_daemon(void)
{
        tl_daemon_free(&daemon_run);
        tl_assert_daemon_starts(&daemon_run, tl_host_argv(workdir, NULL, NULL));
}

/* vmtunectl [--json] advise NAMES..., its exit code in *code. */
static char *advise(int *code, bool json, const char *a, const char *b)
{
        char run[600], *out = NULL;

        snprintf(run, sizeof(run), "%s/run", workdir);
        if (json)
                *code = tl_vmtunectl(run, &out, "--json", "advise", a, b, NULL);
        else
                *code = tl_vmtunectl(run, &out, "advise", a, b, NULL);
        return out;
}

/* The text line "DOMAIN: RULE: ..." containing what, and its source line
 * below it "    [DOCUMENT, SECTION]" containing source. */
static void assert_advice(const char *text, const char *domain, const char *rule, const char *what,
                          const char *source)
{
        char head[128];
        const char *p = text;

        snprintf(head, sizeof(head), "%s: %s: ", domain, rule);
        while ((p = strstr(p, head))) {
                const char *eol = strchr(p, '\n'), *src_end;

                if (eol && (!what || memmem(p, (size_t) (eol - p), what, strlen(what)))) {
                        src_end = strchr(eol + 1, '\n');
                        if (strncmp(eol + 1, "    [", 5) != 0 || !src_end ||
                            !memmem(eol + 1, (size_t) (src_end - eol - 1), source, strlen(source)))
                                fail_msg("%s%s: the source line does not name %s:\n%s", head, what ? what : "",
                                         source, text);
                        return;
                }
                p += strlen(head);
        }
        fail_msg("no advice '%s...%s' in:\n%s", head, what ? what : "", text);
}

/* The same in the JSON answer: one object with these four fields. */
static void assert_json_advice(const char *json, const char *domain, const char *rule, const char *source)
{
        char want[256];
        const char *p;

        snprintf(want, sizeof(want), "{\"domain\":\"%s\",\"rule\":\"%s\",\"text\":\"", domain, rule);
        p = strstr(json, want);
        if (!p)
                fail_msg("no %s in:\n%s", want, json);
        p = strstr(p, "\"reference\":\"");
        if (!p || strncmp(p + strlen("\"reference\":\""), source, strlen(source)) != 0)
                fail_msg("%s: reference does not start with %s:\n%s", want, source, json);
}

static size_t count(const char *s, const char *what)
{
        size_t n = 0;

        for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
                n++;
        return n;
}

static void test_advise_on_real_domains(void **state)
{
        char *out;
        int code;

        start_daemon();

        out = advise(&code, false, "vmt-adv-bad", NULL);
        fprintf(stderr, "%s", out);
        assert_int_equal(code, 1);
        assert_advice(out, "vmt-adv-bad", "disk-virtio", "disk hda is on an emulated ide bus",
                      "IBM, Best practices for KVM");
        assert_advice(out, "vmt-adv-bad", "disk-cache", "disk vda uses cache='writeback'",
                      "Red Hat, RHEL 7 Virtualization Tuning and Optimization Guide, 6.3 Caching");
        assert_advice(out, "vmt-adv-bad", "disk-io", "disk vda uses io='threads'",
                      "Red Hat, RHEL 7 Virtualization Tuning and Optimization Guide, 6.4 I/O Mode");
        assert_advice(out, "vmt-adv-bad", "net-virtio", "52:54:00:76:6d:01 has model 'e1000'",
                      "SUSE, Virtualization Best Practices, 6.1.2 virtio net");
        /* libvirt may report TCG's live CPU as a custom model: only the rule. */
        assert_advice(out, "vmt-adv-bad", "cpu-model", NULL, "SUSE, Virtualization Best Practices, 4.5.2.1");
        assert_advice(out, "vmt-adv-bad", "memballoon", "no balloon", "SUSE, Virtualization Best Practices, "
                      "6.1.3 virtio balloon");
        assert_int_equal(count(out, "vmt-adv-bad: "), 6);
        free(out);

        out = advise(&code, true, "vmt-adv-bad", NULL);
        fprintf(stderr, "%s", out);
        assert_int_equal(code, 1);
        assert_json_advice(out, "vmt-adv-bad", "disk-virtio", "IBM, Best practices for KVM");
        assert_json_advice(out, "vmt-adv-bad", "disk-cache", "Red Hat, RHEL 7");
        assert_json_advice(out, "vmt-adv-bad", "disk-io", "IBM, Best practices for KVM");
        assert_json_advice(out, "vmt-adv-bad", "net-virtio", "IBM, Best practices for KVM");
        assert_json_advice(out, "vmt-adv-bad", "cpu-model", "SUSE, Virtualization Best Practices");
        assert_json_advice(out, "vmt-adv-bad", "memballoon", "IBM, Best practices for KVM");
        assert_non_null(strstr(out, "],\"domains\":1}"));
        free(out);

        /* Defined, not running: advice is for the next start too. */
        out = advise(&code, false, "vmt-adv-big", NULL);
        fprintf(stderr, "%s", out);
        assert_int_equal(code, 1);
        assert_advice(out, "vmt-adv-big", "hugepages", "8192 MiB of memory in 4 KiB pages",
                      "Red Hat, RHEL 7 Virtualization Tuning and Optimization Guide, 5.3.3.2");
        assert_advice(out, "vmt-adv-big", "vcpu-overcommit", "64 vCPUs on a host with",
                      "SUSE, Virtualization Best Practices, 4.5.1 Assigning CPUs");
        free(out);

        out = advise(&code, false, "vmt-adv-good", NULL);
        fprintf(stderr, "%s", out);
        assert_int_equal(code, 0);
        assert_string_equal(out, "no advice for 1 domain(s)\n");
        free(out);
        out = advise(&code, true, "vmt-adv-good", NULL);
        assert_int_equal(code, 0);
        assert_string_equal(out, "{\"version\":1,\"advice\":[],\"domains\":1}\n");
        free(out);

        /* Both named: the bad one's advice, and only its. */
        out = advise(&code, false, "vmt-adv-good", "vmt-adv-bad");
        assert_int_equal(code, 1);
        assert_int_equal(count(out, "vmt-adv-good: "), 0);
        assert_int_equal(count(out, "vmt-adv-bad: "), 6);
        free(out);

        /* A name libvirt does not know is an error, not "nothing to say". */
        out = advise(&code, false, "vmt-adv-none", NULL);
        assert_int_equal(code, 1);
        assert_non_null(strstr(out, "no such domain"));
        free(out);

        assert_int_equal(tl_daemon_stop(&daemon_run, SIGTERM), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_advise_on_real_domains),
        };
        return cmocka_run_group_tests_name("vmtunectl advise on real libvirtd + QEMU", tests, setup, teardown);
}
