/* One token count for every model's text: Agon's own rule, documented
 * here, so that style control and the length categories never depend on
 * which model wrote a text or which tokenizer its vendor uses.
 *
 * The rule approximates byte-pair tokenizers of the GPT-4 family on
 * mixed-language text, without their vocabularies:
 * - a run of ASCII letters counts one token per started 6 letters
 *   ("the" 1, "tokenizer" 2, "internationalization" 4);
 * - a run of digits counts one per started 3 digits ("2026" 2);
 * - a run of other letters (Latin with accents, Cyrillic, Greek, Arabic,
 *   Hebrew, Devanagari...) counts one per started 3 code points;
 * - each CJK ideograph, kana and Hangul syllable counts one;
 * - every other character that is not white space (punctuation, symbols,
 *   emoji) counts one;
 * - white space counts nothing.
 * Invalid UTF-8 bytes count one each. Pure. */
#ifndef AGON_UTIL_TOKENS_H
#define AGON_UTIL_TOKENS_H

#include <stddef.h>

size_t count_tokens(const char *s, size_t len);

/* The Unicode code point at s (n > 0 bytes readable) with its length in
 * *cl (1 to 4); an invalid byte is returned as itself with *cl = 1. */
unsigned utf8_decode(const char *s, size_t n, size_t *cl);

#endif
