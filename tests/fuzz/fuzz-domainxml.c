/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain XML extraction (src/virt/domain.c, libxml2): the pins of a
 * domain's XML, vmtuned's placement record and its opt-out element. The
 * XML comes from libvirt, which takes it from whoever may define domains.
 * The pins are only the flags domain.h defines; a placement record that
 * parses has lists that are attribute text (no NUL inside). */
#include "virt/domain.h"
#include "fuzz.h"

#define ALL_PINS (DOMAIN_PIN_VCPUPIN | DOMAIN_PIN_EMULATORPIN | DOMAIN_PIN_IOTHREADPIN | \
                  DOMAIN_PIN_VCPU_CPUSET | DOMAIN_PIN_NUMATUNE | DOMAIN_PIN_PLACEMENT_AUTO | \
                  DOMAIN_PIN_HUGEPAGES | DOMAIN_PIN_LOCKED | DOMAIN_PIN_HOSTDEV)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *xml = fuzz_text(data, size), *cpus = NULL, *nodes = NULL;
        unsigned pins = 0;

        if (domain_xml_pins(xml, &pins) == 0)
                FUZZ_CHECK((pins & ~(unsigned) ALL_PINS) == 0);
        if (domain_placement_parse(xml, &cpus, &nodes) == 0) {
                free(cpus);
                free(nodes);
        }
        (void) domain_metadata_opts_out(xml);
        free(xml);
        return 0;
}
