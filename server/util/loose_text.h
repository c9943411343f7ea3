/* Two texts compared loosely: the same words in the same order, whatever
 * the white space and the case. For "identical answers are not a vote". */
#ifndef AGON_UTIL_LOOSE_TEXT_H
#define AGON_UTIL_LOOSE_TEXT_H

#include <stddef.h>

/* 1 when a (alen bytes) and b (blen bytes) are equal once each is
 * normalised, else 0. Normalising: runs of white space (ASCII space, tab,
 * CR, LF, VT, FF, and U+00A0 no-break space) become one space, and the
 * text is trimmed at both ends; case is folded one code point at a time
 * for ASCII, Latin-1 (U+00C0-U+00DE but U+00D7), Latin Extended-A pairs
 * (U+0100-U+017F, even to odd), Greek (U+0391-U+03AB) and Cyrillic
 * (U+0400-U+042F): a simple table, no Unicode case mapping beyond it
 * (no ß to ss, no dotless i). Bytes that are not valid UTF-8 compare as
 * themselves. Two texts that are empty after normalising are equal. Pure,
 * linear in the lengths, no allocation. */
int text_same_loose(const char *a, size_t alen, const char *b, size_t blen);

#endif
