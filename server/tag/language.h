/* The language of a visitor's prompts, by CLD2 (Google's Compact Language
 * Detector 2, Debian's libcld2), behind a small C shim (tag/cld2_shim.cc).
 *
 * Why CLD2 and not libexttextcat: on 120 short arena prompts in 12
 * languages (bench/langid/), CLD2 named 111 right, said "unsure" on 7
 * and was wrong on 2; libexttextcat named 94 right, was unsure on 7 and
 * wrong on 19 (it confuses Spanish with Catalan, English with Scots and
 * Turkish with Azerbaijani on short text). Figures in docs/performance.md.
 * Pure, thread-safe (CLD2's tables are static and read-only). */
#ifndef AGON_TAG_LANGUAGE_H
#define AGON_TAG_LANGUAGE_H

#include <stddef.h>

/* The ISO 639-1 code (two letters; "und" when CLD2 is unsure or the text
 * has no letters) of UTF-8 text, into out. Chinese in either script is
 * "zh"; languages without a two-letter code keep CLD2's code (three
 * letters). Never fails. */
void detect_language(const char *text, size_t len, char out[8]);

#endif
