/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The advice rules (virt/advise.c) on domain XML fixtures
 * (tests/fixtures/advise/) and a two-node model host: a tuned VM gets no
 * advice, an untuned one gets every rule that applies to it, and every
 * rule fires on some fixture and cites a source document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "testlib.h"
#include "virt/advise.h"

struct model {
        struct advise_node nodes[2];
        struct advise_hugepages pools[2];
        struct advise_host host;
};

/* Two nodes of 8 CPUs and 32 GiB; 4 GiB of 2 MiB pages (100 free) and
 * eight 1 GiB pages; KSM runs, vhost-net is there, the balancer runs. */
static void model_init(struct model *m)
{
        *m = (struct model) {
                .nodes = { { .mem_kib = 32 * 1024 * 1024 }, { .mem_kib = 32 * 1024 * 1024 } },
                .pools = { { 2048, 2048, 100 }, { 1048576, 8, 8 } },
        };
        assert_int_equal(bitmap_parse_list("0-7", &m->nodes[0].cpus), 0);
        assert_int_equal(bitmap_parse_list("8-15", &m->nodes[1].cpus), 0);
        m->host = (struct advise_host) {
                .nodes = m->nodes, .n_nodes = 2, .n_cpus = 16,
                .hugepages = m->pools, .n_hugepages = 2, .default_hugepage_kib = 2048,
                .ksm_running = true, .vhost_net_known = true, .vhost_net = true, .balancer = true,
        };
}

static void model_done(struct model *m)
{
        bitmap_done(&m->nodes[0].cpus);
        bitmap_done(&m->nodes[1].cpus);
}

static void advise_fixture(const char *name, bool active, const struct advise_host *h, struct advice_list *l)
{
        char rel[128];
        char *xml;

        snprintf(rel, sizeof(rel), "tests/fixtures/advise/%s", name);
        xml = tl_read(tl_srcdir(), rel);
        assert_non_null(xml);
        assert_int_equal(advise_domain(xml, active, h, l), 0);
        free(xml);
}

/* The rule ids of l, sorted, space-separated. */
static char *rules_of(const struct advice_list *l)
{
        const char **ids = xcalloc(l->n + 1, sizeof(char *));
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        for (size_t i = 0; i < l->n; i++)
                ids[i] = l->v[i].rule;
        for (size_t i = 0; i < l->n; i++)
                for (size_t j = i + 1; j < l->n; j++)
                        if (strcmp(ids[j], ids[i]) < 0) {
                                const char *t = ids[i];
                                ids[i] = ids[j];
                                ids[j] = t;
                        }
        for (size_t i = 0; i < l->n; i++)
                fprintf(f, "%s%s", i ? " " : "", ids[i]);
        fclose(f);
        free(ids);
        return buf;
}

static void assert_rules(const char *fixture, bool active, const struct advise_host *h, const char *want)
{
        struct advice_list l = {};
        char *got;

        advise_fixture(fixture, active, h, &l);
        got = rules_of(&l);
        if (strcmp(got, want) != 0) {
                for (size_t i = 0; i < l.n; i++)
                        fprintf(stderr, "  %s: %s\n", l.v[i].rule, l.v[i].text);
                fail_msg("%s: rules \"%s\", want \"%s\"", fixture, got, want);
        }
        free(got);
        advice_list_free(&l);
}

static void test_tuned_vm_gets_no_advice_while_it_runs(void **state)
{
        struct model m;

        model_init(&m);
        assert_rules("tuned.xml", true, &m.host, "");
        /* Not running: its 2048 pages are not taken yet, 100 are free. */
        assert_rules("tuned.xml", false, &m.host, "hugepages-pool");
        model_done(&m);
}

static void test_untuned_vm_gets_every_rule_that_applies(void **state)
{
        struct model m;
        struct advice_list l = {};

        model_init(&m);
        assert_rules("untuned.xml", true, &m.host,
                     "cpu-model disk-cache disk-io disk-virtio emulator-node guest-numa hugepages "
                     "locked-hard-limit memballoon net-multiqueue net-vhost net-virtio nosharepages "
                     "pin-balancer pin-partial vcpu-overcommit");
        /* The texts name the device and the values found. */
        advise_fixture("untuned.xml", true, &m.host, &l);
        for (size_t i = 0; i < l.n; i++) {
                assert_string_equal(l.v[i].domain, "untuned");
                if (streq(l.v[i].rule, "disk-virtio"))
                        assert_non_null(strstr(l.v[i].text, "disk hda is on an emulated ide bus"));
                if (streq(l.v[i].rule, "disk-cache"))
                        assert_non_null(strstr(l.v[i].text, "cache='writeback'"));
                if (streq(l.v[i].rule, "emulator-node"))
                        assert_non_null(strstr(l.v[i].text, "node(s) 1, vCPUs to node(s) 0"));
                if (streq(l.v[i].rule, "vcpu-overcommit"))
                        assert_non_null(strstr(l.v[i].text, "20 vCPUs on a host with 16 CPUs"));
                if (streq(l.v[i].rule, "hugepages"))
                        assert_non_null(strstr(l.v[i].text, "49152 MiB"));
        }
        advice_list_free(&l);
        model_done(&m);
}

static void test_host_facts_decide_the_host_dependent_rules(void **state)
{
        struct model m;

        model_init(&m);
        /* Without KSM, balancer, vhost-net check and topology: only what
         * the XML alone says. */
        m.host.ksm_running = false;
        m.host.balancer = false;
        m.host.vhost_net_known = false;
        m.host.n_nodes = 0;
        m.host.n_cpus = 0;
        assert_rules("untuned.xml", true, &m.host,
                     "cpu-model disk-cache disk-io disk-virtio hugepages locked-hard-limit net-multiqueue "
                     "net-vhost net-virtio pin-partial");
        /* A host without /dev/vhost-net: every virtio NIC is told. */
        m.host.vhost_net_known = true;
        m.host.vhost_net = false;
        assert_rules("tuned.xml", true, &m.host, "net-vhost");
        /* A latency profile makes every VM latency-sensitive. */
        model_done(&m);
        model_init(&m);
        m.host.latency_profile = true;
        m.pools[0].total = 4096;
        assert_rules("vnuma.xml", true, &m.host, "hugepages-pool nosharepages");
        model_done(&m);
}

static void test_huge_pages_are_checked_against_the_pool_of_their_size(void **state)
{
        struct model m;
        struct advice_list l = {};

        model_init(&m);
        /* 16 x 1 GiB needed, 8 in the pool; ballooned to 8 GiB; memory
         * bound to node 1 without vCPU pinning. */
        assert_rules("hugepages-1g.xml", true, &m.host, "hugepages-balloon hugepages-pool pin-balancer pin-partial");
        advise_fixture("hugepages-1g.xml", true, &m.host, &l);
        for (size_t i = 0; i < l.n; i++)
                if (streq(l.v[i].rule, "hugepages-pool"))
                        assert_non_null(strstr(l.v[i].text, "needs 16 huge pages of 1048576 KiB; the host's pool has 8"));
        advice_list_free(&l);
        /* A host without 1 GiB pages at all. */
        m.host.n_hugepages = 1;
        advise_fixture("hugepages-1g.xml", true, &m.host, &l);
        assert_string_equal(l.v[0].rule, "hugepages-pool");
        assert_non_null(strstr(l.v[0].text, "a size this host does not offer"));
        advice_list_free(&l);
        /* A guest NUMA topology answers the VM wider than a node. */
        assert_rules("vnuma.xml", true, &m.host, "hugepages-pool");
        model_done(&m);
}

static void test_every_rule_fires_somewhere_and_cites_a_guide(void **state)
{
        static const char *const fixtures[] = { "tuned.xml", "untuned.xml", "hugepages-1g.xml", "vnuma.xml" };
        static const char *const documents[] = {
                "Red Hat, RHEL 7 Virtualization Tuning and Optimization Guide, ",
                "SUSE, Virtualization Best Practices, ",
                "IBM, Best practices for KVM, ",
                "Canonical, KVM Performance Optimization (slides), ",
                "Current KVM Performance (slides, 2011), ",
        };
        struct model m;
        struct advice_list l = {};
        size_t n;
        const struct advise_rule *rules = advise_rules(&n);

        model_init(&m);
        for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++)
                advise_fixture(fixtures[i], false, &m.host, &l);
        assert_true(n >= 10);
        for (size_t r = 0; r < n; r++) {
                bool fired = false, cited = false;

                for (size_t i = 0; i < l.n; i++)
                        if (streq(l.v[i].rule, rules[r].id)) {
                                fired = true;
                                assert_ptr_equal(l.v[i].source, rules[r].source);
                        }
                for (size_t d = 0; d < ARRAY_SIZE(documents); d++)
                        cited = cited || strncmp(rules[r].source, documents[d], strlen(documents[d])) == 0;
                if (!fired)
                        fail_msg("rule %s fires on no fixture", rules[r].id);
                if (!cited)
                        fail_msg("rule %s cites \"%s\", not a guide", rules[r].id, rules[r].source);
        }
        advice_list_free(&l);
        model_done(&m);
}

static void test_not_a_domain_is_refused_and_adds_nothing(void **state)
{
        struct advise_host h = {};
        struct advice_list l = {};

        assert_int_equal(advise_domain("", false, &h, &l), -EINVAL);
        assert_int_equal(advise_domain("<node/>", false, &h, &l), -EINVAL);
        assert_int_equal(advise_domain("<domain><name>x", false, &h, &l), -EINVAL);
        assert_int_equal(l.n, 0);
        /* A bare domain: only the CPU model, which it leaves to QEMU. */
        assert_int_equal(advise_domain("<domain><name>bare</name></domain>", false, &h, &l), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].rule, "cpu-model");
        advice_list_free(&l);
}

static void test_output_names_domain_rule_and_source_in_text_and_json(void **state)
{
        struct advise_host h = {};
        struct advice_list l = {};
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(advise_domain("<domain><name>a\"b</name></domain>", false, &h, &l), 0);
        f = open_memstream(&buf, &size);
        advice_print(f, &l, 1, true);
        fclose(f);
        assert_non_null(strstr(buf, "{\"version\":1,\"advice\":[{\"domain\":\"a\\\"b\",\"rule\":\"cpu-model\",\"text\":"));
        assert_non_null(strstr(buf, ",\"reference\":\"SUSE, Virtualization Best Practices, 4.5.2.1 "));
        assert_non_null(strstr(buf, "],\"domains\":1}\n"));
        free(buf);
        f = open_memstream(&buf, &size);
        advice_print(f, &l, 1, false);
        fclose(f);
        assert_non_null(strstr(buf, "a\"b: cpu-model: CPU mode 'default': "));
        assert_non_null(strstr(buf, "\n    [SUSE, Virtualization Best Practices, 4.5.2.1 Virtual CPU models"));
        free(buf);
        advice_list_free(&l);
        f = open_memstream(&buf, &size);
        advice_print(f, &l, 3, false);
        fclose(f);
        assert_string_equal(buf, "no advice for 3 domain(s)\n");
        free(buf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tuned_vm_gets_no_advice_while_it_runs),
                cmocka_unit_test(test_untuned_vm_gets_every_rule_that_applies),
                cmocka_unit_test(test_host_facts_decide_the_host_dependent_rules),
                cmocka_unit_test(test_huge_pages_are_checked_against_the_pool_of_their_size),
                cmocka_unit_test(test_every_rule_fires_somewhere_and_cites_a_guide),
                cmocka_unit_test(test_not_a_domain_is_refused_and_adds_nothing),
                cmocka_unit_test(test_output_names_domain_rule_and_source_in_text_and_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
