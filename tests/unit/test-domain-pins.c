/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmtuned's own pins versus the administrator's, on domain XML strings:
 * a live virDomainPinVcpuFlags adds <vcpupin> to the live XML, so after
 * its first move vmtuned must recognise its own pins by the placement it
 * recorded in <metadata>, and still see an administrator's pin made
 * afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "virt/domain.h"
#include "base/util.h"

#define RECORD(attrs) \
        "<metadata><vmtuned:placement xmlns:vmtuned='" VMTUNED_PLACEMENT_XMLNS "' " attrs "/></metadata>"

static unsigned pins_of(const char *xml)
{
        unsigned pins = 0xdead;

        assert_int_equal(domain_xml_pins(xml, &pins), 0);
        return pins;
}

/* What libvirt 9.0's live XML looks like after vmtuned pinned a 2-vCPU
 * domain to CPU 1 (captured by tests/host/test-host-move.c, trimmed). */
static const char live_after_move[] =
        "<domain type='qemu' id='1'>\n"
        "  <name>vmt-move-a</name>\n"
        "  <metadata>\n"
        "    <vmtuned:placement xmlns:vmtuned=\"https://vmtuned.org/xmlns/placement/1.0\" cpus=\"1\"/>\n"
        "  </metadata>\n"
        "  <memory unit='KiB'>131072</memory>\n"
        "  <vcpu placement='static'>2</vcpu>\n"
        "  <cputune>\n"
        "    <vcpupin vcpu='0' cpuset='1'/>\n"
        "    <vcpupin vcpu='1' cpuset='1'/>\n"
        "    <emulatorpin cpuset='1'/>\n"
        "  </cputune>\n"
        "</domain>\n";

static void test_pins_equal_to_the_recorded_placement_are_vmtuned_own(void **state)
{
        assert_int_equal(pins_of(live_after_move), 0);
        assert_int_equal(pins_of("<domain>" RECORD("cpus='2-3' nodes='1'")
                                 "<cputune><vcpupin vcpu='0' cpuset='2-3'/><iothreadpin iothread='1' cpuset='2-3'/>"
                                 "</cputune></domain>"),
                         0);
}

static void test_lists_are_compared_as_sets_not_as_strings(void **state)
{
        assert_int_equal(pins_of("<domain>" RECORD("cpus='0-2'")
                                 "<cputune><vcpupin vcpu='0' cpuset='0,1,2'/><emulatorpin cpuset='2,0-1'/></cputune>"
                                 "</domain>"),
                         0);
}

static void test_an_admin_pin_that_differs_from_the_record_makes_it_pinned_again(void **state)
{
        /* virsh vcpupin vmt-move-a 0 0 --live after vmtuned's move to CPU 1 */
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1'")
                                 "<cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/>"
                                 "<emulatorpin cpuset='1'/></cputune></domain>"),
                         DOMAIN_PIN_VCPUPIN);
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1'")
                                 "<cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='0-1'/>"
                                 "<iothreadpin iothread='1' cpuset='0'/></cputune></domain>"),
                         DOMAIN_PIN_EMULATORPIN | DOMAIN_PIN_IOTHREADPIN);
        /* a cpuset that is not a list is nobody's record */
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1'")
                                 "<cputune><vcpupin vcpu='0' cpuset='x'/></cputune></domain>"),
                         DOMAIN_PIN_VCPUPIN);
}

static void test_without_a_record_every_pin_is_the_administrators(void **state)
{
        static const char *const cases[] = {
                /* no metadata at all */
                "<domain><cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>",
                /* the record under another namespace (the opt-out one) */
                "<domain><metadata><vmtuned:placement xmlns:vmtuned='" VMTUNED_XMLNS "' cpus='1'/></metadata>"
                "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>",
                /* another element of vmtuned's placement namespace */
                "<domain><metadata><vmtuned:pin xmlns:vmtuned='" VMTUNED_PLACEMENT_XMLNS "' cpus='1'/></metadata>"
                "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>",
                /* a record with nodes only (memory moved, CPUs never) */
                "<domain>" RECORD("nodes='0'") "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>",
                /* an empty cpus list */
                "<domain>" RECORD("cpus=''") "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>",
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
                assert_int_equal(pins_of(cases[i]), DOMAIN_PIN_VCPUPIN);
}

static void test_numatune_memory_nodeset_equal_to_the_recorded_nodes_is_own(void **state)
{
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1' nodes='1'")
                                 "<numatune><memory mode='restrictive' nodeset='1'/></numatune></domain>"),
                         0);
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1' nodes='1'")
                                 "<numatune><memory mode='restrictive' nodeset='0-1'/></numatune></domain>"),
                         DOMAIN_PIN_NUMATUNE);
        /* vmtuned never writes <memnode>: always the administrator's */
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1' nodes='1'")
                                 "<numatune><memnode cellid='0' mode='strict' nodeset='1'/></numatune></domain>"),
                         DOMAIN_PIN_NUMATUNE);
        /* the CPUs record says nothing about memory */
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1'")
                                 "<numatune><memory mode='strict' nodeset='1'/></numatune></domain>"),
                         DOMAIN_PIN_NUMATUNE);
}

static void test_a_record_does_not_hide_pins_it_cannot_explain(void **state)
{
        assert_int_equal(pins_of("<domain>" RECORD("cpus='1' nodes='0'")
                                 "<vcpu placement='static' cpuset='1'>2</vcpu>"
                                 "<memoryBacking><hugepages/></memoryBacking>"
                                 "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>"),
                         DOMAIN_PIN_VCPU_CPUSET | DOMAIN_PIN_HUGEPAGES);
}

static void test_placement_record_parses_with_and_without_prefix(void **state)
{
        char *cpus = (char *) 0x1, *nodes = (char *) 0x1;

        assert_int_equal(domain_placement_parse("<placement cpus='0-3' nodes='0'/>", &cpus, &nodes), 0);
        assert_string_equal(cpus, "0-3");
        assert_string_equal(nodes, "0");
        free(cpus);
        free(nodes);

        assert_int_equal(domain_placement_parse("<vmtuned:placement xmlns:vmtuned=\"" VMTUNED_PLACEMENT_XMLNS
                                                "\" cpus=\"1\"/>", &cpus, &nodes), 0);
        assert_string_equal(cpus, "1");
        assert_null(nodes);
        free(cpus);

        cpus = nodes = (char *) 0x1;
        assert_int_equal(domain_placement_parse("<balance>off</balance>", &cpus, &nodes), -EINVAL);
        assert_int_equal(domain_placement_parse("not xml", &cpus, &nodes), -EINVAL);
        assert_int_equal(domain_placement_parse(NULL, &cpus, &nodes), -EINVAL);
        assert_ptr_equal(cpus, (char *) 0x1);
        assert_ptr_equal(nodes, (char *) 0x1);
}

/* KSM groups: clones of one base image (libvirt's live XML shows the
 * backing chain), named by the base image, the deepest <backingStore>. */
static const char clone_xml[] =
        "<domain type='kvm' id='3'>\n"
        "  <name>web-7</name>\n"
        "  <devices>\n"
        "    <disk type='file' device='cdrom'>\n"
        "      <source file='/iso/install.iso'/>\n"
        "      <backingStore type='file'><source file='/iso/not-this.iso'/></backingStore>\n"
        "    </disk>\n"
        "    <disk type='file' device='disk'>\n"
        "      <source file='/var/lib/libvirt/images/web-7.qcow2'/>\n"
        "      <backingStore type='file' index='1'>\n"
        "        <format type='qcow2'/>\n"
        "        <source file='/var/lib/libvirt/images/web-golden.qcow2'/>\n"
        "        <backingStore type='file' index='2'>\n"
        "          <format type='raw'/>\n"
        "          <source file='/var/lib/libvirt/images/debian-12.raw'/>\n"
        "          <backingStore/>\n"
        "        </backingStore>\n"
        "      </backingStore>\n"
        "    </disk>\n"
        "    <disk type='file' device='disk'>\n"
        "      <source file='/data/web-7-data.qcow2'/>\n"
        "      <backingStore type='file'><source file='/data/other-base.qcow2'/></backingStore>\n"
        "    </disk>\n"
        "  </devices>\n"
        "</domain>\n";

static void test_share_key_is_the_first_disks_base_image_or_the_metadata_group(void **state)
{
        _cleanup_free_ char *image = domain_share_key(clone_xml, NULL);
        _cleanup_free_ char *group = domain_share_key(clone_xml, "<balance share-group='web \"tier\"'/>");
        _cleanup_free_ char *opt_out = domain_share_key(clone_xml, "<balance>off</balance>");
        _cleanup_free_ char *own = domain_share_key("<domain><devices><disk type='file' device='disk'>"
                                                    "<source file='/img/solo.qcow2'/><backingStore/></disk>"
                                                    "</devices></domain>", NULL);
        _cleanup_free_ char *block = domain_share_key("<domain><devices><disk type='block'><source dev='/dev/vg/a'/>"
                                                      "<backingStore type='block'><source dev='/dev/vg/base'/>"
                                                      "</backingStore></disk></devices></domain>", NULL);

        assert_string_equal(image, "image:/var/lib/libvirt/images/debian-12.raw");
        assert_string_equal(group, "group:web \"tier\"");
        assert_string_equal(opt_out, "image:/var/lib/libvirt/images/debian-12.raw");
        assert_null(own);                      /* no backing chain: its disk is its own */
        assert_string_equal(block, "image:/dev/vg/base");
        assert_null(domain_share_key("<domain/>", NULL));
        assert_null(domain_share_key("not xml", "<balance share-group=''/>"));
        assert_null(domain_share_key(NULL, NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pins_equal_to_the_recorded_placement_are_vmtuned_own),
                cmocka_unit_test(test_lists_are_compared_as_sets_not_as_strings),
                cmocka_unit_test(test_an_admin_pin_that_differs_from_the_record_makes_it_pinned_again),
                cmocka_unit_test(test_without_a_record_every_pin_is_the_administrators),
                cmocka_unit_test(test_numatune_memory_nodeset_equal_to_the_recorded_nodes_is_own),
                cmocka_unit_test(test_a_record_does_not_hide_pins_it_cannot_explain),
                cmocka_unit_test(test_placement_record_parses_with_and_without_prefix),
                cmocka_unit_test(test_share_key_is_the_first_disks_base_image_or_the_metadata_group),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
