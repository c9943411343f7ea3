/* What tagging needs from storage, on a real SQLite file: a battle's
 * prompts and verdicts, the battles still to tag, the tags filled in on
 * battles stored without them, and the writer's jobs for both, which move
 * a counted vote into exactly the slices a replay of the votes puts it
 * in (live, stored and replayed counts agree). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "storage/tagging.h"
#include "storage/writer.h"

static int last_rc[16] = {[11] = -2, [12] = -2};

static void note_rc(void *cls, int rc) { last_rc[(long)cls] = rc; }

/* Two slice tables hold the same counts. */
static int same_slices(const struct slice_table *x,
                       const struct slice_table *y) {
  if (x->n != y->n)
    return 0;
  for (size_t i = 0; i < x->n; i++) {
    const struct slice *s = slice_table_find(y, x->s[i].key);
    if (!s || s->votes != x->s[i].votes ||
        !pair_table_equal(&s->pairs, &x->s[i].pairs))
      return 0;
  }
  return 1;
}

static long slice_votes(const struct slice_table *t, const char *key) {
  const struct slice *s = slice_table_find(t, key);
  return s ? s->votes : 0;
}

static void play(struct store_writer *w, int i, const char *prompt,
                 const struct battle_tags *tags) {
  char id[40];
  snprintf(id, sizeof id, "b%d", i);
  struct turn_answer ans[2] = {{"answer a", NULL, NULL},
                               {"answer b", NULL, NULL}};
  CHECK(store_writer_battle_create(w, id, 1000 + i, "m-one", "m-two", "s",
                                   prompt, NULL, NULL) == 0);
  CHECK(store_writer_turn_finish(w, id, 1, ans, 2000 + i, "ready", NULL,
                                 tags, NULL, NULL) == 0);
}

static void vote(struct store_writer *w, int i, enum winner win,
                 int counted) {
  char id[40];
  snprintf(id, sizeof id, "b%d", i);
  struct vote_request vr = {.id = id, .session = "s", .w = win, .k = 4,
                            .counted = counted,
                            .reason = counted ? NULL : "too fast"};
  struct vote_outcome out;
  CHECK(store_writer_vote(w, &vr, &out) == VOTE_OK);
  vote_outcome_release(&out);
}

static int listed(char **ids, size_t n, const char *id) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ids[i], id))
      return 1;
  return 0;
}

static void ids_free(char **ids, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
}

int main(void) {
  /* the prompts of an imported record: conversation_a's user messages */
  struct tag_case rc = {0};
  CHECK(tag_case_from_record(&rc, "{\"conversation_a\": [{\"role\": "
                                  "\"user\", \"content\": \"one\"}, "
                                  "{\"role\": \"assistant\", \"content\": "
                                  "\"answer\"}, {\"role\": \"user\", "
                                  "\"content\": \"two\"}]}") == 0);
  CHECK(rc.n_prompts == 2);
  CHECK_STR(rc.n_prompts == 2 ? rc.prompts[1] : NULL, "two");
  tag_case_release(&rc);
  CHECK(tag_case_from_record(&rc, "{\"conversation_a\": []}") == 1);
  CHECK(tag_case_from_record(&rc, "not json") == 1);
  CHECK(rc.n_prompts == 0);

  char dir[] = "/tmp/agon-tagging-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/t.db", dir);
  struct store st;
  if (store_open(&st, path, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  struct live_ratings live;
  memset(&live, 0, sizeof live);
  pthread_mutex_init(&live.lock, NULL);
  struct store_writer *w = store_writer_new(&st, &live);
  CHECK(w != NULL);
  if (!w)
    return 1;

  /* b0..b4 stored without tags (as before schema 0009); b5 with them */
  struct battle_tags en = {.language = "en", .mask = TAG_CODING,
                           .turns = 1};
  for (int i = 0; i < 5; i++) {
    char prompt[32];
    snprintf(prompt, sizeof prompt, "prompt %d", i);
    play(w, i, prompt, NULL);
  }
  play(w, 5, "prompt 5", &en);
  CHECK(store_writer_turn_add(w, "b1", 2, "second prompt", 2500) == 0);
  struct turn_answer ans[2] = {{"a2", NULL, NULL}, {"b2", NULL, NULL}};
  CHECK(store_writer_turn_finish(w, "b1", 2, ans, 2600, "ready", NULL, NULL,
                                 NULL, NULL) == 0);
  vote(w, 0, WINNER_A, 1);
  vote(w, 1, WINNER_B, 1);
  vote(w, 2, WINNER_A, 0);   /* stored, not counted */
  vote(w, 4, WINNER_TIE, 1); /* b3 is never voted */
  vote(w, 5, WINNER_B, 1);
  CHECK(slice_votes(&live.slices, "language=en") == 1);
  CHECK(slice_votes(&live.slices, "category=coding") == 1);

  /* a battle as a tagger sees it */
  struct tag_case c;
  CHECK(store_tag_case_load(&st, "b1", &c) == 0);
  CHECK(c.n_prompts == 2 && c.n_tagged == 0);
  CHECK_STR(c.n_prompts == 2 ? c.prompts[1] : NULL, "second prompt");
  tag_case_release(&c);
  CHECK(store_tag_case_load(&st, "nope", &c) == 1);

  /* what is still to tag */
  char **ids;
  size_t n;
  CHECK(store_untagged(&st, 0, &ids, &n) == 0);
  CHECK(n == 5 && listed(ids, n, "b3") && !listed(ids, n, "b5"));
  ids_free(ids, n);
  CHECK(store_untagged(&st, 2, &ids, &n) == 0 && n == 2);
  ids_free(ids, n);

  /* a tagger's verdicts on b4 before its tags: math moves its vote */
  struct category_verdict v[2] = {{"math", 1}, {"creative_writing", 0}};
  CHECK(store_writer_categories(w, "b4", v, 2, "t1", 3000, note_rc,
                                (void *)0) == 0);
  /* b2's vote is not counted: stored, nothing moves */
  CHECK(store_writer_categories(w, "b2", v, 1, "t1", 3000, note_rc,
                                (void *)1) == 0);
  /* a verdict again: the first one stays, nothing moves twice */
  CHECK(store_writer_categories(w, "b4", v, 1, "t2", 3001, note_rc,
                                (void *)2) == 0);
  store_writer_flush(w);
  CHECK(last_rc[0] == 1 && last_rc[1] == 0 && last_rc[2] == 0);
  CHECK(slice_votes(&live.slices, "category=math") == 1);
  CHECK(store_tag_case_load(&st, "b4", &c) == 0);
  CHECK(c.n_tagged == 2 && tag_case_tagged(&c, "math") &&
        tag_case_tagged(&c, "creative_writing") &&
        !tag_case_tagged(&c, "hard_prompt"));
  tag_case_release(&c);

  const char *cats[] = {"math", "creative_writing"};
  CHECK(store_tag_pending(&st, cats, 2, 0, &ids, &n) == 0);
  /* voted battles lacking a verdict on either: not b3 (not voted), not
   * b4 (both tagged); b2 has math only */
  CHECK(n == 4 && listed(ids, n, "b0") && listed(ids, n, "b2") &&
        listed(ids, n, "b5") && !listed(ids, n, "b3") &&
        !listed(ids, n, "b4"));
  ids_free(ids, n);

  /* tags filled in: b0's counted vote joins the language, the category
   * and the category within the language */
  struct battle_tags ko = {.language = "ko",
                           .mask = TAG_CODING | TAG_NO_SHORT, .turns = 1};
  CHECK(store_writer_battle_tags(w, "b0", &ko, note_rc, (void *)3) == 0);
  /* b4 was in category=math already: it joins language=ko,
   * language=ko&category=math and no_short's two */
  struct battle_tags ko2 = {.language = "ko", .mask = TAG_NO_SHORT,
                            .turns = 1};
  CHECK(store_writer_battle_tags(w, "b4", &ko2, note_rc, (void *)4) == 0);
  /* not counted, not voted, and already tagged: nothing moves */
  CHECK(store_writer_battle_tags(w, "b2", &ko, note_rc, (void *)5) == 0);
  CHECK(store_writer_battle_tags(w, "b3", &ko, note_rc, (void *)6) == 0);
  CHECK(store_writer_battle_tags(w, "b5", &ko, note_rc, (void *)7) == 0);
  CHECK(store_writer_battle_tags(w, "b0", &en, note_rc, (void *)8) == 0);
  /* und: no language slice */
  struct battle_tags und = {.language = "und", .mask = TAG_NO_SHORT,
                            .turns = 2};
  CHECK(store_writer_battle_tags(w, "b1", &und, note_rc, (void *)9) == 0);
  store_writer_flush(w);
  CHECK(last_rc[3] == 5);
  CHECK(last_rc[4] == 4);
  CHECK(last_rc[5] == 0 && last_rc[6] == 0 && last_rc[7] == 0 &&
        last_rc[8] == 0);
  CHECK(last_rc[9] == 1);
  CHECK(slice_votes(&live.slices, "language=ko") == 2);
  CHECK(slice_votes(&live.slices, "language=ko&category=math") == 1);
  CHECK(slice_votes(&live.slices, "category=no_short") == 3);
  CHECK(slice_votes(&live.slices, "category=coding") == 2);
  CHECK(slice_votes(&live.slices, "language=en") == 1);
  CHECK(store_untagged(&st, 0, &ids, &n) == 0 && n == 0);
  ids_free(ids, n);

  /* a counted vote that de-duplication left out of the BT boards is in no
   * slice, so tags never move it into one */
  play(w, 6, "prompt 6", NULL);
  vote(w, 6, WINNER_A, 1);
  sqlite3 *rw = NULL;
  CHECK(sqlite3_open(path, &rw) == SQLITE_OK);
  CHECK(sqlite3_exec(rw, "UPDATE votes SET dedup = 1 WHERE battle_id = 'b6'",
                     NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(rw);
  CHECK(store_writer_battle_tags(w, "b6", &ko, note_rc, (void *)11) == 0);
  CHECK(store_writer_categories(w, "b6", v, 1, "t1", 3500, note_rc,
                                (void *)12) == 0);
  store_writer_flush(w);
  CHECK(last_rc[11] == 0 && last_rc[12] == 0);

  /* live, stored and replayed: the same counts */
  struct slice_table stored, replay;
  slice_table_init(&stored);
  slice_table_init(&replay);
  long n_votes = 0;
  CHECK(store_slices_load(&st, &stored) == 0);
  CHECK(store_slices_replay(&st, &replay, &n_votes) == 0);
  CHECK(n_votes == 4);
  CHECK(same_slices(&live.slices, &stored));
  CHECK(same_slices(&replay, &stored));
  slice_table_release(&stored);
  slice_table_release(&replay);

  /* a writer without live ratings (agon tag) stores and counts alike */
  store_writer_free(w);
  w = store_writer_new(&st, NULL);
  CHECK(w != NULL);
  struct category_verdict hard = {"hard_prompt", 1};
  CHECK(store_writer_categories(w, "b0", &hard, 1, "t1", 4000, note_rc,
                                (void *)10) == 0);
  store_writer_flush(w);
  CHECK(last_rc[10] == 2); /* category=hard_prompt, within ko */
  slice_table_init(&stored);
  slice_table_init(&replay);
  CHECK(store_slices_load(&st, &stored) == 0);
  CHECK(store_slices_replay(&st, &replay, &n_votes) == 0);
  CHECK(same_slices(&replay, &stored));
  CHECK(slice_votes(&stored, "language=ko&category=hard_prompt") == 1);
  slice_table_release(&stored);
  slice_table_release(&replay);

  store_writer_free(w);
  rating_table_release(&live.elo);
  pair_table_release(&live.pairs);
  slice_table_release(&live.slices);
  pthread_mutex_destroy(&live.lock);
  store_close(&st);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", dir);
  return check_done("test_tagging");
}
