#include "fastchat/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastchat/battle_log.h"
#include "rating/dedup.h"
#include "tag/categories.h"

static const char *const hard_criteria[7] = {
    "specificity",  "domain_knowledge",   "complexity", "problem_solving",
    "creativity",   "technical_accuracy", "real_world"};

int fastchat_hard_criteria(json_t *criteria) {
  int met = 0;
  for (int k = 0; k < 7; k++)
    met += json_is_true(json_object_get(criteria, hard_criteria[k]));
  return met;
}

void fastchat_fields_init(struct fastchat_fields *f) {
  memset(f, 0, sizeof *f);
  f->dedup = -1;
  strcpy(f->style.language, "und");
}

void fastchat_fields_release(struct fastchat_fields *f) {
  json_decref(f->conv_metadata);
  f->conv_metadata = NULL;
}

/* ---- reading ---- */

/* Whether s can name a slice's language: 2 or 3 lowercase letters. */
static int is_code(const char *s) {
  size_t n = strlen(s);
  return (n == 2 || n == 3) && strspn(s, "abcdefghijklmnopqrstuvwxyz") == n;
}

static void read_language(const char *name, char out[SLICE_LANG_MAX]) {
  const char *code = log_language_code(name);
  if (!code && is_code(name))
    code = name;
  snprintf(out, SLICE_LANG_MAX, "%s", code ? code : "und");
}

/* The turns of a record's conversations (tag/battle_tags.h): the k-th
 * user turn of conversation_a, the k-th answer of each side; *n is 0
 * without a conversation_a holding a user turn. Texts borrowed from rec;
 * turns owned by the caller (NULL when *n is 0). -1 when out of memory. */
static int read_turns(json_t *rec, struct battle_tags_turn **turns,
                      size_t *n) {
  json_t *ca = json_object_get(rec, "conversation_a");
  json_t *conv[2] = {ca, json_object_get(rec, "conversation_b")};
  size_t users = 0, i;
  json_t *msg;
  *turns = NULL;
  *n = 0;
  json_array_foreach(ca, i, msg) {
    const char *role = json_string_value(json_object_get(msg, "role"));
    users += role && !strcmp(role, "user");
  }
  if (!users)
    return 0;
  struct battle_tags_turn *t = calloc(users, sizeof *t);
  if (!t)
    return -1;
  size_t k = 0;
  json_array_foreach(ca, i, msg) {
    const char *role = json_string_value(json_object_get(msg, "role"));
    if (role && !strcmp(role, "user"))
      t[k++].prompt = json_string_value(json_object_get(msg, "content"));
  }
  for (int s = 0; s < 2; s++) {
    k = 0;
    json_array_foreach(conv[s], i, msg) {
      const char *role = json_string_value(json_object_get(msg, "role"));
      if (role && !strcmp(role, "assistant") && k < users)
        t[k++].answer[s] = json_string_value(json_object_get(msg, "content"));
    }
  }
  *turns = t;
  *n = users;
  return 0;
}

/* Set or clear bit in *mask as v (a JSON boolean) says; 1 when it said. */
static int set_from(unsigned *mask, unsigned bit, json_t *v, int invert) {
  if (!json_is_boolean(v))
    return 0;
  if (json_is_true(v) != invert)
    *mask |= bit;
  else
    *mask &= ~bit;
  return 1;
}

/* A category verdict, unless one of that name is there or the name
 * cannot be a slice's. */
static void add_category(struct fastchat_fields *f, const char *name,
                         int value) {
  char key[SLICE_KEY_MAX];
  if (f->n_categories == FASTCHAT_MAX_CATEGORIES ||
      strlen(name) >= SLICE_CAT_MAX || slice_key(key, NULL, name))
    return;
  for (size_t i = 0; i < f->n_categories; i++)
    if (!strcmp(f->categories[i].name, name))
      return;
  struct fastchat_category *c = &f->categories[f->n_categories++];
  snprintf(c->name, sizeof c->name, "%s", name);
  c->value = value ? 1 : 0;
}

static void read_categories(json_t *ct, struct fastchat_fields *f) {
  const char *name;
  json_t *v;
  json_object_foreach(json_object_get(ct, "agon_categories_v0.1"), name, v)
    if (json_is_boolean(v))
      add_category(f, name, json_is_true(v));
  json_t *crit = json_object_get(ct, "criteria_v0.1");
  if (json_is_object(crit))
    add_category(f, "hard_prompt", fastchat_hard_criteria(crit) >= 6);
  v = json_object_get(json_object_get(ct, "math_v0.1"), "math");
  if (json_is_boolean(v))
    add_category(f, "math", json_is_true(v));
  v = json_object_get(json_object_get(ct, "creative_writing_v0.1"),
                      "creative_writing");
  if (json_is_boolean(v))
    add_category(f, "creative_writing", json_is_true(v));
  json_t *ift = json_object_get(ct, "if_v0.1");
  json_t *score = json_object_get(ift, "score");
  v = json_object_get(ift, "if");
  if (json_is_number(score))
    add_category(f, "instruction_following", json_number_value(score) >= 4);
  else if (json_is_boolean(v))
    add_category(f, "instruction_following", json_is_true(v));
}

int fastchat_fields_read(json_t *rec, struct fastchat_fields *f) {
  fastchat_fields_init(f);
  json_t *lang = json_object_get(rec, "language");
  json_t *cm = json_object_get(rec, "conv_metadata");
  json_t *ct = json_object_get(rec, "category_tag");
  json_t *own = json_object_get(ct, "agon_tags_v0.1");
  json_t *code = json_object_get(rec, "is_code");
  json_t *refusal = json_object_get(rec, "is_refusal");
  json_t *turn = json_object_get(rec, "turn");
  json_t *user = json_object_get(cm, "sum_user_tokens");
  if (!json_is_object(cm))
    cm = NULL;
  if (!json_is_object(own))
    own = NULL;
  struct battle_tags_turn *turns = NULL;
  size_t n = 0;
  if (read_turns(rec, &turns, &n))
    return -1;
  /* the conversation is read only for what the record does not say */
  int need = n && (!json_is_string(lang) || !cm ||
                   (!own && (!json_is_boolean(code) ||
                             !json_is_boolean(refusal) ||
                             !json_is_number(user))));
  if (need && battle_tags_compute(turns, n, &f->style)) {
    free(turns);
    return -1;
  }
  free(turns);

  if (json_is_string(lang))
    read_language(json_string_value(lang), f->language);
  else if (n)
    snprintf(f->language, sizeof f->language, "%s", f->style.language);

  if (own) {
    f->tagged = 1;
    for (int i = 0; i < TAG_N_HEURISTIC; i++)
      if (json_is_true(json_object_get(own, heuristic_tag_name(i))))
        f->mask |= 1u << i;
  } else {
    f->tagged = n > 0;
    f->mask = need ? f->style.mask : 0;
    f->tagged |= set_from(&f->mask, TAG_CODING, code, 0);
    f->tagged |= set_from(&f->mask, TAG_NO_REFUSAL, refusal, 1);
    int multi = json_is_number(turn) ? json_number_value(turn) >= 2
                : n                      ? n >= 2
                                         : -1;
    if (multi >= 0) {
      f->tagged = 1;
      f->mask = multi ? f->mask | TAG_MULTI_TURN : f->mask & ~TAG_MULTI_TURN;
    }
    if (json_is_number(user)) {
      double u = json_number_value(user);
      f->tagged = 1;
      f->mask &= ~(TAG_LONG_QUERY | TAG_NO_SHORT);
      f->mask |= (u >= LONG_QUERY_TOKENS ? TAG_LONG_QUERY : 0) |
                 (u >= SHORT_QUERY_TOKENS ? TAG_NO_SHORT : 0);
    }
  }

  if (cm)
    f->conv_metadata = json_incref(cm);
  else
    f->counted_style = n > 0;
  read_categories(ct, f);
  return 0;
}

/* ---- writing ---- */

static int set_new(json_t *obj, const char *key, json_t *v) {
  return !v || json_object_set_new(obj, key, v) ? -1 : 0;
}

int fastchat_fields_write(json_t *rec, const struct fastchat_fields *f) {
  const char *name = !f->language[0] || !strcmp(f->language, "und")
                         ? "unknown"
                         : log_language_name(f->language);
  if (set_new(rec, "language", json_string(name ? name : f->language)))
    return -1;
  json_t *ct = json_object(); /* rec's once set; dropped again if empty */
  if (!ct || json_object_set_new(rec, "category_tag", ct))
    return -1;
  if (f->tagged) {
    json_t *own = json_object();
    if (set_new(ct, "agon_tags_v0.1", own))
      return -1;
    for (int i = 0; i < TAG_N_HEURISTIC; i++)
      if (set_new(own, heuristic_tag_name(i),
                  json_boolean(f->mask & (1u << i))))
        return -1;
    if (set_new(rec, "is_code", json_boolean(f->mask & TAG_CODING)) ||
        set_new(rec, "is_refusal", json_boolean(!(f->mask & TAG_NO_REFUSAL))))
      return -1;
  }
  if (f->n_categories) {
    json_t *all = json_object();
    if (set_new(ct, "agon_categories_v0.1", all))
      return -1;
    for (size_t i = 0; i < f->n_categories; i++) {
      const struct fastchat_category *c = &f->categories[i];
      int r = set_new(all, c->name, json_boolean(c->value));
      if (!strcmp(c->name, "math"))
        r |= set_new(ct, "math_v0.1", json_pack("{s:b}", "math", c->value));
      else if (!strcmp(c->name, "creative_writing"))
        r |= set_new(ct, "creative_writing_v0.1",
                     json_pack("{s:b, s:s}", "creative_writing", c->value,
                               "score", c->value ? "yes" : "no"));
      else if (!strcmp(c->name, "instruction_following"))
        r |= set_new(ct, "if_v0.1",
                     json_pack("{s:b, s:n}", "if", c->value, "score"));
      if (r)
        return -1;
    }
  }
  if (json_object_size(ct) == 0)
    json_object_del(rec, "category_tag");
  if (f->conv_metadata &&
      json_object_set(rec, "conv_metadata", f->conv_metadata))
    return -1;
  if (f->dedup >= 0 &&
      set_new(rec, "dedup_tag",
              json_pack("{s:b, s:b}", "high_freq",
                        (f->dedup & DEDUP_HIGH_FREQ) != 0, "sampled",
                        (f->dedup & DEDUP_SAMPLED) != 0)))
    return -1;
  return 0;
}
