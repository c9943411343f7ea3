/* Sessions' own boards (rating/own_boards.h): a held session replays its
 * votes as the live Elo would (rating_table_apply, the same operations);
 * its newest max_votes are kept, through the ring's wrap; the least
 * recently used session goes past max_sessions, and a read makes a
 * session the most recent; a vote for a session not held is not kept. */
#include <stdio.h>

#include "check.h"
#include "rating/own_boards.h"

static double elo_of(const struct rating_table *t, const char *m) {
  const struct rating_row *r = rating_table_find(t, m);
  return r ? r->elo : -1;
}

int main(void) {
  struct own_boards ob;
  own_boards_init(&ob);
  const struct own_vote_in votes[] = {
      {"x", "y", WINNER_A}, {"y", "z", WINNER_TIE}, {"z", "x", WINNER_B},
      {"x", "z", WINNER_BOTHBAD}, {"y", "x", WINNER_A}};
  size_t n = sizeof votes / sizeof votes[0];

  /* all five held: the replay equals the live Elo's */
  CHECK(own_boards_put(&ob, "s1", votes, n, 10, 100) == 0);
  struct rating_table got = {0}, want = {0};
  long nv = 0;
  CHECK(own_boards_replay(&ob, "s1", 4, &got, &nv) == 1 && nv == 5);
  for (size_t i = 0; i < n; i++)
    rating_table_apply(&want, votes[i].model_a, votes[i].model_b, votes[i].w,
                       4);
  static const char *const models[] = {"x", "y", "z"};
  for (size_t i = 0; i < 3; i++)
    CHECK(elo_of(&got, models[i]) == elo_of(&want, models[i]));
  CHECK(rating_table_find(&got, "x")->battles == 4);
  rating_table_release(&got);
  rating_table_release(&want);

  /* the newest 3 only, through the ring's wrap */
  CHECK(own_boards_put(&ob, "s2", votes, 2, 10, 3) == 0);
  for (size_t i = 2; i < n; i++)
    own_boards_add(&ob, "s2", votes[i].model_a, votes[i].model_b, votes[i].w,
                   3);
  CHECK(own_boards_replay(&ob, "s2", 4, &got, &nv) == 1 && nv == 3);
  for (size_t i = 2; i < n; i++)
    rating_table_apply(&want, votes[i].model_a, votes[i].model_b, votes[i].w,
                       4);
  CHECK(elo_of(&got, "x") == elo_of(&want, "x"));
  CHECK(elo_of(&got, "y") == elo_of(&want, "y"));
  CHECK(rating_table_find(&got, "y")->battles == 1);
  rating_table_release(&got);
  rating_table_release(&want);

  /* not held: not kept, and not found */
  own_boards_add(&ob, "nobody", "x", "y", WINNER_A, 3);
  CHECK(own_boards_replay(&ob, "nobody", 4, &got, &nv) == 0 && nv == 0);
  CHECK(got.n == 0);

  /* two sessions at most: s1 was read after s2 was put, so s2 goes */
  CHECK(own_boards_replay(&ob, "s1", 4, &got, &nv) == 1);
  rating_table_release(&got);
  CHECK(own_boards_put(&ob, "s3", votes, 1, 2, 3) == 0);
  CHECK(own_boards_sessions(&ob) == 2);
  CHECK(own_boards_replay(&ob, "s2", 4, &got, &nv) == 0);
  CHECK(own_boards_replay(&ob, "s1", 4, &got, &nv) == 1 && nv == 5);
  rating_table_release(&got);
  /* put again: replaced, not added */
  CHECK(own_boards_put(&ob, "s1", votes, 2, 2, 3) == 0);
  CHECK(own_boards_sessions(&ob) == 2);
  CHECK(own_boards_replay(&ob, "s1", 4, &got, &nv) == 1 && nv == 2);
  rating_table_release(&got);
  /* an empty session is held, with an empty board */
  CHECK(own_boards_put(&ob, "s4", NULL, 0, 2, 3) == 0);
  CHECK(own_boards_replay(&ob, "s4", 4, &got, &nv) == 1 && nv == 0);
  CHECK(got.n == 0);
  own_boards_release(&ob);
  return check_done("test_own_boards");
}
