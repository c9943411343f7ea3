// The one C++ file of Agon: CLD2 behind a C function (tag/cld2_shim.h).
#include <cstdio>  // compact_lang_det.h uses FILE without including it

#include <cld2/public/compact_lang_det.h>

#include "tag/cld2_shim.h"

namespace CLD2 {
const char *LanguageCode(Language lang);  // lang_script.h, exported by libcld2
}

extern "C" const char *agon_cld2_detect(const char *text, int len,
                                        int *reliable) {
  bool is_reliable = false;
  int valid_prefix = 0;
  CLD2::Language lang = CLD2::DetectLanguageCheckUTF8(
      text, len, true /* plain text */, &is_reliable, &valid_prefix);
  *reliable = is_reliable ? 1 : 0;
  return CLD2::LanguageCode(lang);
}
