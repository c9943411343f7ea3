/* The style of a model's answers, counted for style control
 * (rating/style.h): a token count, and the Markdown headers, list items
 * and bold spans that FastChat's add_markdown_info.py counts, with its
 * rules. Pure: no I/O, no state.
 *
 * The text is a conversation side's assistant turns joined with "\n", as
 * FastChat joins them; it is UTF-8 (bytes that are not are taken as
 * letters of no known script: see the token rule).
 *
 * Markdown counts, after the code blocks are removed (below), exactly as
 * these Python regular expressions count (re.findall; "^" is the start of
 * the text or of a line, after '\n'; \s is Python's Unicode whitespace;
 * \d is any Unicode decimal digit, of Unicode 14 as Python 3.11 knows):
 *   headers[k-1]  ^#{k}\s            (k = 1..6, multiline)
 *   ordered       ^\s*\d+\.\s        (multiline)
 *   unordered     ^\s*[-*+]\s        (multiline)
 *   bold_star     \*\*[^*\n]+\*\*
 *   bold_under    __[^_\n]+__
 * Note that \s* may run over blank lines, so "\n\n1. x" is one item, and
 * that the whitespace after a marker may be the line's '\n' ("#\n" is a
 * header).
 *
 * Code blocks are removed as FastChat removes them: every match of
 * ```([^`]*)``` in the text is found first; then, for each match in turn,
 * every occurrence of its inner text (what is between the fences) is
 * deleted from the text as it then stands (Python's str.replace). The
 * fences stay, and an inner text that also occurs outside its block is
 * deleted there too: that is FastChat's behaviour, kept so that counts we
 * compute equal the ones in FastChat's conv_metadata.
 *
 * Tokens: we have no model's tokenizer, and one rule counts every model's
 * text (the style features are ratios of the two sides' counts, so what
 * matters is that both sides are measured alike). The whole text is
 * counted, code included (FastChat's sum_assistant_*_tokens count whole
 * turns). The text is cut into maximal runs of one class, and:
 *   - whitespace (Python's \s) and other control characters: 0;
 *   - a run of n ASCII digits: ceil(n / 3) (numbers split into groups of
 *     up to three digits, as GPT-4's cl100k pre-tokenizer splits them);
 *   - each CJK ideograph, kana or Hangul syllable or jamo: 1;
 *   - a run of n ASCII punctuation characters: ceil(n / 2) ("**", ");"
 *     and "." are one each, "```" two);
 *   - each other symbol (U+00A1..U+00BF, U+00D7, U+00F7, the general
 *     punctuation, arrows, mathematical, technical, box-drawing,
 *     geometric and miscellaneous symbol and dingbat blocks U+2010..
 *     U+2BFF, CJK punctuation U+3001..U+303F, fullwidth punctuation,
 *     emoji and pictographs U+1F000..U+1FAFF): 1;
 *   - a run of n letters: ceil(n / 6), where a letter is an ASCII letter
 *     or any other code point (accented Latin, Greek, Cyrillic, Arabic,
 *     Hebrew, Indic scripts, combining marks...), and a byte that is not
 *     valid UTF-8.
 * It is meant to come near GPT-4's count on English prose (most English
 * words have at most six letters and are one token there), but it was
 * not measured against a real tokenizer (none is at hand); scripts other
 * than Latin and CJK surely get fewer tokens than GPT-4 would give them,
 * the same for every model. Code's indentation counts nothing. */
#ifndef AGON_RENDER_STYLE_COUNT_H
#define AGON_RENDER_STYLE_COUNT_H

#include <stddef.h>
#include <stdint.h>

struct style_counts {
  uint64_t tokens;
  uint64_t headers[6];          /* h1..h6 */
  uint64_t ordered, unordered;  /* list items */
  uint64_t bold_star, bold_under;
};

/* Tokens of len bytes of text, by the rule above. Cannot fail. */
uint64_t style_tokens(const char *text, size_t len);

/* The Markdown counts of len bytes of text taken as it is (no code block
 * removed) into out's headers, lists and bold (out->tokens untouched).
 * Cannot fail. */
void style_count_markdown(const char *text, size_t len,
                          struct style_counts *out);

/* The text with its code blocks removed as described above: a new
 * NUL-terminated string (caller frees) of *out_len bytes, or NULL when
 * out of memory. */
char *style_strip_code(const char *text, size_t len, size_t *out_len);

/* All counts of len bytes of text: tokens of the whole text, Markdown
 * after the code blocks are removed. Returns 0, or -1 when out of memory
 * (out is then untouched). */
int style_count(const char *text, size_t len, struct style_counts *out);

#endif
