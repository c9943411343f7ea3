/* The string operations lm-evaluation-harness's task files apply to the
 * data, as Python 3 does them, on UTF-8 text (bench tasks). Pure; every
 * result is a new string the caller frees, NULL when out of memory. */
#ifndef AGON_BENCH_TEXT_H
#define AGON_BENCH_TEXT_H

#include <stddef.h>

/* len(s) in Python: code points of valid UTF-8 s. */
size_t py_len(const char *s);

/* The byte offset of code point number `chars` of s (its length when s
 * is shorter). */
size_t py_offset(const char *s, size_t chars);

/* Whether the code point at s (n bytes readable) is white space to
 * Python's str.isspace; *clen gets its length in bytes (1 when not valid
 * UTF-8). */
int py_isspace_at(const char *s, size_t n, size_t *clen);

/* s.strip(): white space (py_isspace_at) off both ends. */
char *py_strip(const char *s);

/* s.capitalize() for ASCII letters: the first character upper case, every
 * other ASCII letter lower case (Python lowers every cased character; a
 * letter beyond ASCII is kept as it is here). */
char *py_capitalize_ascii(const char *s);

/* s.replace(old, new): every non-overlapping occurrence, left to right. */
char *py_replace(const char *s, const char *old, const char *new_text);

/* re.sub(r"\[.*?\]", "", s): each bracketed span without a newline in it
 * taken out (the shortest from each '['). */
char *py_drop_brackets(const char *s);

/* The first occurrence of c's byte in s, as Python's str.index gives it
 * in code points; -1 when absent. */
long py_index_char(const char *s, char c);

#endif
