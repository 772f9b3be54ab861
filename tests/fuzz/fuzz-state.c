/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The persisted profile choice, STATE_DIR/active_profile
 * (src/daemon/state.c): the file decides which profile root applies at the
 * next start, so only one or two valid profile names are accepted. The
 * input is the file's bytes, NULs included (the reader does not stop at
 * one). */
#include <errno.h>

#include "config/profile.h"
#include "daemon/state.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct state_profile st = {}, again = {};
        char *text;
        int r;

        r = state_profile_parse((const char *) data, size, &st);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EFBIG);
        FUZZ_CHECK(r != -EFBIG || size > STATE_PROFILE_MAX);
        if (r < 0)
                return 0;
        FUZZ_CHECK(size <= STATE_PROFILE_MAX);
        FUZZ_CHECK(profile_name_valid(st.name));
        FUZZ_CHECK(!st.base || profile_name_valid(st.base));
        FUZZ_CHECK(state_profile_applies(&st, st.base ? st.base : "any"));

        /* What the daemon writes reads back the same, and is the input
         * up to a missing last newline. */
        text = state_profile_format(st.name, st.base);
        FUZZ_CHECK(state_profile_parse(text, strlen(text), &again) == 0);
        FUZZ_CHECK(strcmp(again.name, st.name) == 0);
        FUZZ_CHECK(streq_ptr(again.base, st.base));
        FUZZ_CHECK(strlen(text) == size + (data[size - 1] != '\n'));
        FUZZ_CHECK(memcmp(text, data, size) == 0);
        free(text);
        state_profile_clear(&again);
        state_profile_clear(&st);
        return 0;
}
