/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The advice rules on domain XML (src/virt/advise.c, libxml2), against a
 * two-node model host with KSM and the balancer on, so that every rule can
 * fire. The XML comes from libvirt, which takes it from whoever may
 * define domains. Each piece of advice names a rule of the table with
 * that rule's source, and says something; a refused document adds nothing. */
#include "virt/advise.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct advise_node nodes[2] = { { .mem_kib = 1 << 20 }, { .mem_kib = 1 << 20 } };
        static const struct advise_hugepages pools[] = { { 2048, 512, 100 }, { 1048576, 2, 2 } };
        struct advise_host host = {
                .nodes = nodes, .n_nodes = 2, .n_cpus = 8, .hugepages = pools, .n_hugepages = 2,
                .default_hugepage_kib = 2048, .ksm_running = true, .vhost_net_known = true,
                .balancer = true, .latency_profile = size % 2,
        };
        char *xml = fuzz_text(data, size);
        struct advice_list list = {};
        size_t n_rules;
        const struct advise_rule *rules = advise_rules(&n_rules);

        if (nodes[0].cpus.n_words == 0) {
                for (unsigned c = 0; c < 4; c++) {
                        bitmap_set(&nodes[0].cpus, c);
                        bitmap_set(&nodes[1].cpus, c + 4);
                }
        }
        if (advise_domain(xml, size % 3 == 0, &host, &list) < 0)
                FUZZ_CHECK(list.n == 0);
        for (size_t i = 0; i < list.n; i++) {
                bool known = false;

                for (size_t r = 0; r < n_rules; r++)
                        known = known || (streq(rules[r].id, list.v[i].rule) && rules[r].source == list.v[i].source);
                FUZZ_CHECK(known);
                FUZZ_CHECK(list.v[i].text[0] != '\0' && list.v[i].domain != NULL);
        }
        advice_list_free(&list);
        free(xml);
        return 0;
}
