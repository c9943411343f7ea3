#include "handlers/slice_query.h"

#include <string.h>

#include "tag/categories.h"
#include "tag/llm.h"

int slice_category_known(const struct config *cfg, const char *name) {
  for (int i = 0; i < TAG_N_HEURISTIC; i++)
    if (!strcmp(heuristic_tag_name(i), name))
      return 1;
  return llm_tag_builtin(name) || config_find_category(cfg, name);
}

static int language_ok(const char *s) {
  size_t n = strlen(s);
  if (n < 2 || n > 3)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < 'a' || s[i] > 'z')
      return 0;
  return 1;
}

enum agon_ec slice_query_read(struct request *rq, struct slice_query *q) {
  memset(q, 0, sizeof *q);
  q->language = request_query(rq, "language");
  q->category = request_query(rq, "category");
  const char *style = request_query(rq, "style");
  const char *open = request_query(rq, "open_weights");
  if (q->language && !*q->language)
    q->language = NULL;
  if (q->category && !*q->category)
    q->category = NULL;
  if (q->language && !language_ok(q->language))
    return EC_INVALID_LANGUAGE;
  if (q->category && !slice_category_known(rq->cfg, q->category))
    return EC_INVALID_CATEGORY;
  if (style && strcmp(style, "control") && strcmp(style, "none") && *style)
    return EC_INVALID_STYLE;
  q->style = style && !strcmp(style, "control");
  if (open && *open && strcmp(open, "true") && strcmp(open, "false") &&
      strcmp(open, "1") && strcmp(open, "0"))
    return EC_INVALID_OPEN_WEIGHTS;
  q->open_weights = open && (!strcmp(open, "true") || !strcmp(open, "1"));
  if (slice_key(q->key, q->language, q->category))
    return q->language ? EC_INVALID_LANGUAGE : EC_INVALID_CATEGORY;
  return EC_OK;
}
