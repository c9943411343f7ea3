#include "tag/battle_tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tag/language.h"

/* The texts of one kind (prompts, or side s's answers) joined with "\n",
 * at most cap bytes (0: no bound); NULL when out of memory. */
static char *join(const struct battle_tags_turn *turns, size_t n, int which,
                  size_t cap, size_t *len) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    const char *t = which < 0 ? turns[i].prompt : turns[i].answer[which];
    total += (t ? strlen(t) : 0) + 1;
  }
  if (cap && total > cap)
    total = cap;
  char *out = malloc(total + 1);
  if (!out)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n && k < total; i++) {
    const char *t = which < 0 ? turns[i].prompt : turns[i].answer[which];
    if (i > 0)
      out[k++] = '\n';
    size_t l = t ? strlen(t) : 0;
    if (l > total - k)
      l = total - k;
    memcpy(out + k, t ? t : "", l);
    k += l;
  }
  out[k] = '\0';
  *len = k;
  return out;
}

int battle_tags_compute(const struct battle_tags_turn *turns, size_t n,
                        struct battle_tags *out) {
  int rc = -1;
  const char **prompts = calloc(n + 1, sizeof *prompts);
  char *joined = NULL, *side = NULL;
  size_t len = 0;
  memset(out, 0, sizeof *out);
  strcpy(out->language, "und");
  if (!prompts)
    goto out;
  for (size_t i = 0; i < n; i++)
    prompts[i] = turns[i].prompt ? turns[i].prompt : "";
  out->mask = prompt_tags(prompts, n, &out->user_tokens);
  out->turns = n;
  if (!(joined = join(turns, n, -1, BATTLE_TAGS_LANGUAGE_BYTES, &len)))
    goto out;
  detect_language(joined, len, out->language);
  if (n > 0 && !is_refusal(turns[n - 1].answer[0] ? turns[n - 1].answer[0] : "") &&
      !is_refusal(turns[n - 1].answer[1] ? turns[n - 1].answer[1] : ""))
    out->mask |= TAG_NO_REFUSAL;
  for (int s = 0; s < 2; s++) {
    free(side);
    if (!(side = join(turns, n, s, 0, &len)) ||
        style_count(side, len, &out->style[s]))
      goto out;
  }
  rc = 0;
out:
  if (rc) {
    memset(out, 0, sizeof *out);
    strcpy(out->language, "und");
  }
  free(prompts);
  free(joined);
  free(side);
  return rc;
}

size_t battle_tags_names(unsigned mask, const char **out, size_t max) {
  size_t k = 0;
  for (int i = 0; i < TAG_N_HEURISTIC && k < max; i++)
    if (mask & (1u << i))
      out[k++] = heuristic_tag_name(i);
  return k;
}

void battle_tags_text(unsigned mask, char out[BATTLE_TAGS_TEXT_MAX]) {
  size_t k = 0;
  out[0] = '\0';
  for (int i = 0; i < TAG_N_HEURISTIC; i++) {
    if (!(mask & (1u << i)))
      continue;
    int w = snprintf(out + k, BATTLE_TAGS_TEXT_MAX - k, "%s%s", k ? "," : "",
                     heuristic_tag_name(i));
    if (w < 0 || (size_t)w >= BATTLE_TAGS_TEXT_MAX - k)
      break; /* cannot happen: the names fit */
    k += (size_t)w;
  }
}

unsigned battle_tags_parse(const char *s) {
  unsigned mask = 0;
  while (s && *s) {
    size_t l = strcspn(s, ",");
    for (int i = 0; i < TAG_N_HEURISTIC; i++) {
      const char *name = heuristic_tag_name(i);
      if (strlen(name) == l && !strncmp(name, s, l))
        mask |= 1u << i;
    }
    s += l;
    if (*s == ',')
      s++;
  }
  return mask;
}
