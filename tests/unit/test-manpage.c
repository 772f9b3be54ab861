/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The man pages name every option the code knows, in the right section, so
 * the option tables and the documentation cannot drift apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/conf.h"
#include "testlib.h"

/* The text of one ".SS [section]" subsection of a man page (malloc'd). */
static char *subsection(const char *page, const char *section)
{
        char heading[96], *start, *end;

        snprintf(heading, sizeof(heading), "\n.SS [%s]\n", section);
        start = strstr(page, heading);
        if (!start)
                return NULL;
        start += strlen(heading);
        end = strstr(start, "\n.S");
        return strndup(start, end ? (size_t) (end - start) : strlen(start));
}

static void test_every_option_and_profile_key_is_in_its_man_page_section(void **state)
{
        char *conf_page = tl_read(tl_srcdir(), "man/vmtuned.conf.5");
        char *profiles_page = tl_read(tl_srcdir(), "man/vmtuned-profiles.7");
        char *list = NULL, *line, *save = NULL;
        size_t size = 0, checked = 0;
        FILE *f = open_memstream(&list, &size);

        assert_non_null(conf_page);
        assert_non_null(profiles_page);
        conf_list_options(f);
        fclose(f);
        for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char section[64], key[128], want[160];
                char *text;

                assert_int_equal(sscanf(line, "%63s %127s", section, key), 2);
                snprintf(want, sizeof(want), ".B %s=", key);
                if (strcmp(section, "main") == 0) {
                        snprintf(want, sizeof(want), "%s=", key);
                        if (!strstr(profiles_page, want))
                                fail_msg("vmtuned-profiles(7) does not document [main] %s=", key);
                } else {
                        text = subsection(conf_page, section);
                        if (!text || !strstr(text, want))
                                fail_msg("vmtuned.conf(5) has no \"%s\" under .SS [%s]", want, section);
                        free(text);
                }
                checked++;
        }
        assert_true(checked > 30);
        free(list);
        free(conf_page);
        free(profiles_page);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_option_and_profile_key_is_in_its_man_page_section),
        };
        return cmocka_run_group_tests_name("man pages", tests, NULL, NULL);
}
