/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel uevent datagrams (src/tuning/hotplug.c): read from a netlink
 * socket, "ACTION@DEVPATH\0KEY=value\0...". The raw bytes, NULs and all.
 * What parses names a device by its last DEVPATH component, which hot-plug
 * puts into sys/block/NAME/ paths: never empty, never holding a '/'. */
#include "tuning/hotplug.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct hotplug_uevent ev;
        char *copy;

        /* The daemon's buffer is not NUL-terminated after the datagram:
         * a copy of exactly size bytes lets ASan see any overread. */
        copy = malloc(size ? size : 1);
        FUZZ_CHECK(copy);
        memcpy(copy, data, size);
        if (hotplug_uevent_parse(copy, size, &ev) == 0) {
                enum hotplug_action a = hotplug_classify(&ev, false), b = hotplug_classify(&ev, true);

                FUZZ_CHECK(ev.sysname[0] && !strchr(ev.sysname, '/'));
                FUZZ_CHECK(memchr(ev.subsystem, '\0', sizeof(ev.subsystem)) &&
                           memchr(ev.devtype, '\0', sizeof(ev.devtype)) &&
                           memchr(ev.sysname, '\0', sizeof(ev.sysname)));
                FUZZ_CHECK(ev.action >= HOTPLUG_IGNORE && ev.action <= HOTPLUG_ONLINE);
                FUZZ_CHECK(a == HOTPLUG_IGNORE || a == ev.action);
                FUZZ_CHECK(b == a || (a == HOTPLUG_CHANGE && b == HOTPLUG_IGNORE));
        }
        free(copy);
        return 0;
}
