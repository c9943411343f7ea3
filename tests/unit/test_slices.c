/* Leaderboard slices: keys, the slices of a battle, counting, copies. */
#include "check.h"
#include "rating/live.h"
#include "rating/slices.h"

#include <stdlib.h>

int main(void) {
  char k[SLICE_KEY_MAX];
  CHECK(slice_key(k, "ko", NULL) == 0);
  CHECK_STR(k, "language=ko");
  CHECK(slice_key(k, NULL, "coding") == 0);
  CHECK_STR(k, "category=coding");
  CHECK(slice_key(k, "ko", "coding") == 0);
  CHECK_STR(k, "language=ko&category=coding");
  CHECK(slice_key(k, "", "") == 0);
  CHECK_STR(k, "");
  CHECK(slice_key(k, "k&o", NULL) == -1);
  CHECK(slice_key(k, NULL, "Coding") == -1);
  CHECK(slice_key(k, "toolonglang", NULL) == -1);
  CHECK(slice_key(k, NULL, "a_category_name_of_more_than_32_bytes") == -1);

  char keys[8][SLICE_KEY_MAX];
  const char *cats[] = {"coding", "no_short"};
  CHECK(slice_keys("ko", cats, 2, keys, 8) == 5);
  CHECK_STR(keys[0], "language=ko");
  CHECK_STR(keys[1], "category=coding");
  CHECK_STR(keys[2], "language=ko&category=coding");
  CHECK_STR(keys[3], "category=no_short");
  CHECK_STR(keys[4], "language=ko&category=no_short");
  CHECK(slice_keys("und", cats, 2, keys, 8) == 2);  /* no language slices */
  CHECK_STR(keys[0], "category=coding");
  CHECK(slice_keys("ko", cats, 2, keys, 3) == 3);   /* bounded */
  CHECK(slice_keys(NULL, NULL, 0, keys, 8) == 0);

  struct slice_table t, c;
  slice_table_init(&t);
  CHECK(slice_table_find(&t, "language=ko") == NULL);
  for (int i = 0; i < 40; i++) /* grows past its first capacity */
    CHECK(slice_table_add(&t, i % 2 ? "language=ko" : "category=coding",
                          "x", "y", i % 3 == 0 ? WINNER_A : WINNER_B) == 0);
  char many[SLICE_KEY_MAX];
  for (int i = 0; i < 30; i++) {
    snprintf(many, sizeof many, "category=c%d", i);
    CHECK(slice_table_add(&t, many, "y", "x", WINNER_TIE) == 0);
  }
  CHECK(t.n == 32);
  const struct slice *s = slice_table_find(&t, "language=ko");
  CHECK(s && s->votes == 20 && s->pairs.n == 1);
  /* odd i: wins for a when i % 3 == 0 (3, 9, 15, 21, 27, 33, 39) */
  CHECK(s && s->pairs.rows[0].wins_a + s->pairs.rows[0].wins_b == 20);
  CHECK(slice_table_copy(&c, &t) == 0);
  CHECK(c.n == t.n);
  const struct slice *cs = slice_table_find(&c, "category=c29");
  CHECK(cs && cs->votes == 1 && cs->pairs.rows[0].ties == 1 && cs != slice_table_find(&t, "category=c29"));
  slice_table_release(&t);
  CHECK(t.n == 0 && slice_table_find(&t, "language=ko") == NULL);
  CHECK(slice_table_find(&c, "language=ko")->votes == 20);
  slice_table_release(&c);

  /* staged with a group commit's votes, live only once applied */
  struct live_ratings live = {0};
  pthread_mutex_init(&live.lock, NULL);
  struct vote_batch vb;
  vote_batch_init(&vb);
  char bk[8][SLICE_KEY_MAX];
  size_t nk = slice_keys("ja", cats, 1, bk, 8);
  CHECK(nk == 3);
  CHECK(vote_batch_stage_slices(&vb, (const char(*)[SLICE_KEY_MAX])bk, nk,
                                "m1", "m2", WINNER_A) == 0);
  CHECK(vote_batch_stage_slices(&vb, (const char(*)[SLICE_KEY_MAX])bk, 1,
                                "m2", "m1", WINNER_TIE) == 0);
  CHECK(live.slices.n == 0 && live.pairs.n == 0);
  CHECK(vote_batch_apply(&vb, &live) == 0);
  vote_batch_release(&vb);
  CHECK(live.pairs.n == 0); /* the overall counts are staged apart */
  const struct slice *ja = slice_table_find(&live.slices, "language=ja");
  CHECK(ja && ja->votes == 2 && ja->pairs.rows[0].ties == 1);
  const struct slice *jc = slice_table_find(&live.slices, "language=ja&category=coding");
  CHECK(jc && jc->votes == 1);
  CHECK(jc && ((!strcmp(jc->pairs.rows[0].a, "m1") && jc->pairs.rows[0].wins_a == 1)));
  slice_table_release(&live.slices);
  pthread_mutex_destroy(&live.lock);
  return check_done("test_slices");
}
