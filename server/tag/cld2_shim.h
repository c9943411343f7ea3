/* The C face of CLD2 (C++): tag/cld2_shim.cc. Only tag/language.c calls
 * it. */
#ifndef AGON_TAG_CLD2_SHIM_H
#define AGON_TAG_CLD2_SHIM_H

#ifdef __cplusplus
extern "C" {
#endif

/* CLD2's code for the language of plain UTF-8 text (len bytes), e.g.
 * "en", "zh", "zh-Hant", "un" when unknown; *reliable gets whether CLD2
 * trusts it. The string is static. Invalid UTF-8 gives "un". */
const char *agon_cld2_detect(const char *text, int len, int *reliable);

#ifdef __cplusplus
}
#endif

#endif
