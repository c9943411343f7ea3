/* Online Elo against hand-computed values (FastChat's convention). */
#include "check.h"
#include "rating/elo.h"

int main(void) {
  double a = 1000, b = 1000;
  elo_update(&a, &b, WINNER_A, 4);
  CHECK_NEAR(a, 1002.0, 1e-12);
  CHECK_NEAR(b, 998.0, 1e-12);
  /* 1002 vs 998, b wins: ea = 1/(1+10^(-4/400)) = 0.5057562...
   * a = 1002 - 4*0.5057562 = 999.9769751663554 */
  elo_update(&a, &b, WINNER_B, 4);
  CHECK_NEAR(a, 999.9769751663554, 1e-9);
  CHECK_NEAR(b, 1000.0230248336446, 1e-9);

  /* a tie between equals changes nothing; "both bad" is a tie too */
  double c = 1000, d = 1000;
  elo_update(&c, &d, WINNER_TIE, 4);
  CHECK(c == 1000 && d == 1000);
  elo_update(&c, &d, WINNER_BOTHBAD, 4);
  CHECK(c == 1000 && d == 1000);

  /* 1200 vs 1000 tie with K = 32: ea = 1/(1+10^-0.5) = 0.7597469 */
  double e = 1200, f = 1000;
  elo_update(&e, &f, WINNER_TIE, 32);
  CHECK_NEAR(e, 1191.6880983472654, 1e-9);
  CHECK_NEAR(f, 1008.3119016527346, 1e-9);
  CHECK_NEAR(e + f, 2200.0, 1e-9); /* zero-sum */

  /* the table counts and replays */
  struct rating_table t = {0};
  CHECK(rating_table_apply(&t, "x", "y", WINNER_A, 4) == 0);
  CHECK(rating_table_apply(&t, "y", "z", WINNER_TIE, 4) == 0);
  CHECK(rating_table_apply(&t, "x", "y", WINNER_B, 4) == 0);
  const struct rating_row *x = rating_table_find(&t, "x");
  const struct rating_row *y = rating_table_find(&t, "y");
  const struct rating_row *z = rating_table_find(&t, "z");
  CHECK(x && y && z);
  if (x && y && z) {
    CHECK(x->battles == 2 && x->wins == 1 && x->losses == 1);
    CHECK(y->battles == 3 && y->wins == 1 && y->losses == 1 && y->ties == 1);
    CHECK(z->ties == 1);
    CHECK_NEAR(x->elo + y->elo + z->elo, 3000.0, 1e-9);
  }
  CHECK(rating_table_find(&t, "w") == NULL);

  /* a copy is the same rows, owned apart: it outlives the table */
  struct rating_table copy = {0};
  CHECK(rating_table_copy(&copy, &t) == 0);
  CHECK(copy.n == t.n);
  const struct rating_row *cy = rating_table_find(&copy, "y");
  CHECK(cy && y && cy != y && cy->model != y->model);
  if (cy && y)
    CHECK(cy->elo == y->elo && cy->battles == 3 && cy->ties == 1);
  rating_table_release(&t);
  CHECK(rating_table_find(&copy, "x") && rating_table_find(&copy, "z"));
  rating_table_release(&copy);
  struct rating_table empty = {0};
  CHECK(rating_table_copy(&copy, &empty) == 0 && copy.n == 0);
  rating_table_release(&copy);

  enum winner w;
  CHECK(winner_parse("bothbad", &w) == 0 && w == WINNER_BOTHBAD);
  CHECK(winner_parse("model_a", &w) == -1);
  CHECK_STR(winner_name(WINNER_TIE), "tie");
  return check_done("test_elo");
}
