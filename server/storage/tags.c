#include "storage/tags.h"

#include <stdio.h>

json_t *store_conv_metadata(const struct battle_tags *t) {
  json_t *m = json_pack("{s:I, s:I}", "sum_user_tokens",
                        (json_int_t)t->user_tokens, "turns",
                        (json_int_t)t->turns);
  for (int s = 0; m && s < 2; s++) {
    const struct style_counts *c = &t->style[s];
    char key[32];
    json_t *h = json_object();
    for (int k = 0; k < 6; k++) {
      char hk[4];
      snprintf(hk, sizeof hk, "h%d", k + 1);
      json_object_set_new(h, hk, json_integer((json_int_t)c->headers[k]));
    }
    snprintf(key, sizeof key, "sum_assistant_%c_tokens", 'a' + s);
    json_object_set_new(m, key, json_integer((json_int_t)c->tokens));
    snprintf(key, sizeof key, "header_count_%c", 'a' + s);
    json_object_set_new(m, key, h);
    snprintf(key, sizeof key, "list_count_%c", 'a' + s);
    json_object_set_new(m, key,
                        json_pack("{s:I, s:I}", "ordered",
                                  (json_int_t)c->ordered, "unordered",
                                  (json_int_t)c->unordered));
    snprintf(key, sizeof key, "bold_count_%c", 'a' + s);
    json_object_set_new(m, key,
                        json_pack("{s:I, s:I}", "**",
                                  (json_int_t)c->bold_star, "__",
                                  (json_int_t)c->bold_under));
  }
  return m;
}
