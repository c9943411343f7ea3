/* Regenerate and retry in memory: whether a model is left to take over a
 * failed side (the enabled, configured models not left out), and a side
 * emptied for a new attempt, its answer kept with its model and
 * its metrics held back under that model. */
#include <stdlib.h>
#include <string.h>

#include "battle/arena_impl.h"
#include "check.h"

static void left(void) {
  struct model_config m[5] = {
      {.name = "one", .base_url = "http://x", .enabled = 1},
      {.name = "two", .base_url = "http://x", .enabled = 1},
      {.name = "off", .base_url = "http://x", .enabled = 0},
      {.name = "three", .base_url = "http://x", .enabled = 1},
      {.name = "four", .base_url = "http://x", .enabled = 1}};
  struct config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.models = m;
  cfg.n_models = 5;
  /* the enabled models not held: never a held or a disabled one */
  const char *held[] = {"one", "three"};
  CHECK(pairing_replacements_left(&cfg, held, 2) == 2);
  CHECK(pairing_replacements_left(&cfg, NULL, 0) == 4);
  const char *all[] = {"one", "two", "three", "four"};
  CHECK(pairing_replacements_left(&cfg, all, 4) == 0);
  /* a model without an endpoint (a battle's setting of a removed model)
   * does not count; a NULL name leaves nothing out */
  m[1].base_url = NULL;
  const char *most[] = {"one", "three", NULL};
  CHECK(pairing_replacements_left(&cfg, most, 3) == 1);
}

static void side_replace(void) {
  struct model_config ma = {.name = "model-a"}, mb = {.name = "model-b"};
  struct battle *b = battle_new("id", "session", 0, &ma, &mb);
  pthread_mutex_lock(&b->lock);
  b->max_answer = 1024;
  int t = battle_add_turn_locked(b, "prompt", b->max_answer);
  CHECK(t == 0);
  struct battle_side *s = &b->turns[0].side[1];
  buf_append_str(&s->text, "first answer");
  s->finished = 1;
  s->html = strdup("<p>first answer</p>");
  s->html_len = strlen(s->html);
  s->m = (struct side_metrics){.started = 1, .outcome = 1, .ttft = 0.5};
  size_t before = battle_bytes_locked(b);
  CHECK(battle_side_replace_locked(b, 0, 1, "regenerate") == 0);
  CHECK(s->text.len == 0 && !s->finished && !s->failed && !s->html);
  CHECK(s->m.started == 0 && s->m.outcome == 0);
  CHECK(b->n_held == 1);
  CHECK_STR(b->held[0].model, "model-b");
  CHECK(b->held[0].m.outcome == 1 && !b->held[0].m.published);
  CHECK(json_array_size(b->replaced) == 1);
  json_t *row = json_array_get(b->replaced, 0);
  CHECK_STR(json_string_value(json_object_get(row, "answer")), "first answer");
  CHECK_STR(json_string_value(json_object_get(row, "side")), "b");
  CHECK_STR(json_string_value(json_object_get(row, "model")), "model-b");
  CHECK_STR(json_string_value(json_object_get(row, "kind")), "regenerate");
  CHECK(json_integer_value(json_object_get(row, "attempt")) == 1);
  CHECK(json_is_false(json_object_get(row, "failed")));
  /* the kept text counts, the emptied side and its HTML no more */
  CHECK(b->replaced_bytes == strlen("first answer"));
  CHECK(battle_bytes_locked(b) < before);
  /* the new attempt takes text again, up to the battle's bound */
  CHECK(buf_append_str(&s->text, "second") == 0 && s->text.max == 1024);
  /* a revealed battle publishes the held metrics once */
  battle_reveal_metrics_locked(b);
  CHECK(b->held[0].m.published == 1);
  pthread_mutex_unlock(&b->lock);
  battle_unref(b);
}

int main(void) {
  left();
  side_replace();
  return check_done("test_replace");
}
