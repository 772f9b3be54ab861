/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading INI text, for profiles and the config file: our own reader, so
 * that the syntax does not change with how a library was built (Debian's
 * inih, used before, cut lines at 200 bytes and parsed the rest as a line
 * of its own), and tuned users find what they know. The syntax we accept:
 *
 *   - a line starting with '#' or ';' is a comment;
 *   - '#' or ';' after white space starts a comment to the end of the line,
 *     as in tuned's profiles ("vm.swappiness = 10  # why"); inside a word
 *     ("a#b") it is kept;
 *   - "[name]" starts a section; anything after the ']' is an error;
 *   - any other non-blank line is "key = value" with '=' (':' is not a
 *     separator); the value may be empty; white space around key and value
 *     is dropped; a key before the first section is an error;
 *   - leading white space is ignored, with one exception: an indented line
 *     right after a "key = value" (or its continuation) that is neither a
 *     section nor has an '=' continues the value (INI continuation), so a
 *     30-name exclude= can be spread over lines. A list option joins the
 *     parts with ", " (a part that ends or starts with a comma: " "), any
 *     other with " ". A blank or comment-only line ends the value;
 *   - lines have no length limit (the file has: 1 MiB);
 *   - a UTF-8 byte order mark at the start and "\r\n" line ends are fine;
 *   - section names, keys and values are UTF-8 without control characters
 *     (C0, DEL, C1); a tab inside a value is white space and allowed.
 *     Comments are not checked: they mean nothing to the daemon;
 *   - a key given twice in one section is an error naming both lines: the
 *     second would silently win. A later section, also of the same name in
 *     the same file, and a later file (include=, the configuration file's
 *     local overrides) may override a key: that is inheritance, and last
 *     wins.
 *
 * Line numbers: a value's messages name its key's line.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/kfile.h"
#include "base/utf8.h"
#include "config/ini.h"

#define CONF_FILE_MAX (1024 * 1024)
#define TEXT_RULE "UTF-8 text without control characters"

void conf_error_set(struct conf_error *err, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
}

void conf_error_prefix(struct conf_error *err, const char *file, unsigned line)
{
        char rest[sizeof(err->message)];

        if (!err)
                return;
        /* A message too long for the buffer is cut at the end: file,
         * line and key come first. */
        memcpy(rest, err->message, sizeof(rest));
        if (line > 0)
                conf_error_set(err, "%s:%u: %s", file, line, rest);
        else
                conf_error_set(err, "%s: %s", file, rest);
}

/* A key of the current section, to tell one given twice. */
struct seen_key {
        char *key;
        unsigned line;
};

struct reader {
        const char *pos;              /* start of the next line */
        unsigned line;                /* number of the line last handed out */
        bool in_section;
        char section[256];            /* the current one */
        const struct conf_parser *p;
        struct conf_error *err;
        int error;                    /* first error; reading stops there */
        struct seen_key *seen;        /* the current section's keys */
        size_t n_seen;
};

/* Exchange rd->line and *line: errors of a continued value name its key's line. */
static void swap_line(struct reader *rd, unsigned *line)
{
        unsigned t = rd->line;

        rd->line = *line;
        *line = t;
}

static void seen_clear(struct reader *rd)
{
        for (size_t i = 0; i < rd->n_seen; i++)
                free(rd->seen[i].key);
        rd->n_seen = 0;
}

/* Section names, keys and values are UTF-8 text without control
 * characters (a tab allowed in values), so that what an operator reads is
 * what the daemon acts on. NULL if text is such, else what is wrong
 * ("invalid UTF-8 byte 0xff at byte 4"), in buf. */
static const char *text_problem(const char *text, bool allow_tab, char *buf, size_t size)
{
        const unsigned char *p;
        bool valid;
        size_t at;

        if (utf8_valid_text(text, allow_tab, &at))
                return NULL;
        p = (const unsigned char *) text + at;
        (void) utf8_sequence(p, &valid);
        if (!valid)
                snprintf(buf, size, "invalid UTF-8 byte 0x%02x at byte %zu", p[0], at + 1);
        else
                snprintf(buf, size, "control character U+%04X at byte %zu", p[0] == 0xc2 ? p[1] : p[0], at + 1);
        return buf;
}

static int reader_fail(struct reader *rd, int r)
{
        rd->error = r;
        conf_error_prefix(rd->err, rd->p->file, rd->line);
        return r;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The meaningful part [*ret_start, *ret_end) of the line [s, eol):
 * without surrounding white space and comments. */
static void line_content(const char *s, const char *eol, const char **ret_start, const char **ret_end)
{
        const char *e;

        while (s < eol && is_blank(*s))
                s++;
        if (s < eol && (*s == '#' || *s == ';'))
                eol = s;
        for (e = s; e < eol; e++)
                if ((*e == '#' || *e == ';') && e > s && is_blank(e[-1])) {
                        eol = e;
                        break;
                }
        while (eol > s && is_blank(eol[-1]))
                eol--;
        *ret_start = s;
        *ret_end = eol;
}

/* "[name]": keep the name for the entries and hand it to the section callback. */
static int check_section(struct reader *rd, const char *s, size_t n)
{
        const char *close = memchr(s, ']', n);
        char why[64], shown[256];
        size_t len;
        int r;

        if (!close || close != s + n - 1 || close == s + 1 || n - 2 >= sizeof(rd->section)) {
                conf_error_set(rd->err, "expected '[section]'");
                return reader_fail(rd, -EINVAL);
        }
        rd->in_section = true;
        seen_clear(rd);
        len = (size_t) (close - s - 1);
        memcpy(rd->section, s + 1, len);
        rd->section[len] = '\0';
        if (text_problem(rd->section, false, why, sizeof(why))) {
                conf_error_set(rd->err, "[%s]: %s of the section name (allowed: " TEXT_RULE ")",
                               utf8_escape(rd->section, shown, sizeof(shown)), why);
                return reader_fail(rd, -EINVAL);
        }
        if (!rd->p->section)
                return 0;
        r = rd->p->section(rd->p->userdata, rd->section, rd->err);
        return r < 0 ? reader_fail(rd, r) : 0;
}

static int check_entry(struct reader *rd, const char *s, size_t n)
{
        const char *eq = memchr(s, '=', n);
        const char *colon = memchr(s, ':', n);

        if (!eq || (colon && colon < eq))
                conf_error_set(rd->err, "expected 'key = value' or '[section]'");
        else if (eq == s)
                conf_error_set(rd->err, "missing key before '='");
        else if (!rd->in_section)
                conf_error_set(rd->err, "'key = value' before any [section]");
        else
                return 0;
        return reader_fail(rd, -EINVAL);
}

/* Keys and values are text (text_problem). On error fills rd->err. */
static int check_key_value(struct reader *rd, const char *key, const char *value)
{
        char why[64], shown_key[256], shown_value[256];

        if (text_problem(key, false, why, sizeof(why)))
                conf_error_set(rd->err, "[%s] %s: %s of the key (allowed: " TEXT_RULE ")",
                               rd->section, utf8_escape(key, shown_key, sizeof(shown_key)), why);
        else if (text_problem(value, true, why, sizeof(why)))
                conf_error_set(rd->err, "[%s] %s: %s of '%s' (allowed: " TEXT_RULE "; tab in a value)",
                               rd->section, key, why, utf8_escape(value, shown_value, sizeof(shown_value)));
        else
                return 0;
        return -EINVAL;
}

/* A key once per section: the line of its first definition in this
 * section, or 0 (and it is remembered). Linear, as profile_set is. */
static unsigned seen_before(struct reader *rd, const char *key)
{
        for (size_t i = 0; i < rd->n_seen; i++)
                if (streq(rd->seen[i].key, key))
                        return rd->seen[i].line;
        rd->seen = xreallocarray(rd->seen, rd->n_seen + 1, sizeof(*rd->seen));
        rd->seen[rd->n_seen++] = (struct seen_key){ .key = xstrdup(key), .line = rd->line };
        return 0;
}

static int handle_entry(struct reader *rd, const char *key, const char *value)
{
        unsigned first;
        int r;

        r = check_key_value(rd, key, value);
        if (r == 0 && (first = seen_before(rd, key)) > 0) {
                conf_error_set(rd->err, "key %s given twice in [%s]: lines %u and %u "
                               "(once per section; a later section or file may override it)",
                               key, rd->section, first, rd->line);
                r = -EINVAL;
        }
        if (r == 0)
                r = rd->p->entry(rd->p->userdata, rd->section, key, value, rd->line, rd->err);
        return r < 0 ? reader_fail(rd, r) : 0;
}

static char *trimmed(const char *s, const char *end)
{
        while (s < end && is_blank(*s))
                s++;
        while (end > s && is_blank(end[-1]))
                end--;
        return xasprintf("%.*s", (int) (end - s), s);
}

/* The continuation of a value: the content of the line at pos if that line
 * is indented, not empty (comments removed) and neither a section nor a
 * "key = value". */
static bool continuation(const char *pos, const char **ret_start, const char **ret_end, const char **ret_next)
{
        const char *eol = strchrnul(pos, '\n'), *s, *e;

        if (!is_blank(*pos))
                return false;
        line_content(pos, eol, &s, &e);
        if (s == e || *s == '[' || memchr(s, '=', (size_t) (e - s)))
                return false;
        *ret_start = s;
        *ret_end = e;
        *ret_next = *eol ? eol + 1 : eol;
        return true;
}

/* One "key = value", with its continuation lines joined as the option's
 * type wants (conf_parser.is_list): list items with ", " (or " " next to
 * a comma already there), other text with " ". */
static int read_entry(struct reader *rd, const char *s, const char *e)
{
        const char *eq = memchr(s, '=', (size_t) (e - s)), *cs, *ce, *next;
        _cleanup_free_ char *key = trimmed(s, eq);
        _cleanup_free_ char *value = trimmed(eq + 1, e);
        unsigned key_line = rd->line;
        int r;

        while (continuation(rd->pos, &cs, &ce, &next)) {
                bool list = rd->p->is_list && rd->p->is_list(rd->p->userdata, rd->section, key);
                size_t len = strlen(value);
                const char *sep = " ";
                char *joined;

                if (len == 0)
                        sep = "";
                else if (list && value[len - 1] != ',' && *cs != ',')
                        sep = ", ";
                joined = xasprintf("%s%s%.*s", value, sep, (int) (ce - cs), cs);
                free(value);
                value = joined;
                rd->pos = next;
                rd->line++;
        }
        /* Messages name the key's line. */
        swap_line(rd, &key_line);
        r = handle_entry(rd, key, value);
        swap_line(rd, &key_line);
        return r;
}

int conf_parse_text(const char *text, const struct conf_parser *p, struct conf_error *err)
{
        struct reader rd = { .pos = text, .p = p, .err = err };

        if (startswith(text, "\xEF\xBB\xBF"))
                rd.pos += 3;
        while (rd.error == 0 && *rd.pos) {
                const char *eol = strchrnul(rd.pos, '\n'), *start, *end;
                size_t n;

                rd.line++;
                line_content(rd.pos, eol, &start, &end);
                rd.pos = *eol ? eol + 1 : eol;
                n = (size_t) (end - start);
                if (n == 0)
                        continue;
                if (*start == '[')
                        (void) check_section(&rd, start, n);
                else if (check_entry(&rd, start, n) == 0)
                        (void) read_entry(&rd, start, end);
        }
        seen_clear(&rd);
        free(rd.seen);
        return rd.error;
}

int conf_read_file(const char *path, char **ret, struct conf_error *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                conf_error_set(err, "%s: cannot read: %s", path, strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                conf_error_set(err, "%s: not a regular file", path);
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        }
        r = kfile_read_fd(fd, CONF_FILE_MAX, &buf, &size);
        if (r == -E2BIG) {
                conf_error_set(err, "%s: too large (allowed: at most %d bytes)", path, CONF_FILE_MAX);
                return -EFBIG;
        }
        if (r < 0) {
                conf_error_set(err, "%s: cannot read: %s", path, strerror(-r));
                return r;
        }
        if (memchr(buf, '\0', size)) {
                conf_error_set(err, "%s: contains a NUL byte: not a text file", path);
                return -EINVAL;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}
