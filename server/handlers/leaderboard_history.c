/* GET /api/leaderboard?as_of=T: the board as it was at T, the Elo replayed
 * over the counted votes created up to T and the Bradley-Terry fit of
 * them with intervals, computed in the background (battle/history.h); the
 * rows as the live board's: every enabled model, those below [ratings]
 * min_battles under "provisional".
 *
 * GET /api/leaderboard/history: each model's Elo and BT at up to
 * HISTORY_POINTS instants from the first counted vote to the last, or
 * {"pending": true} while it is computed. */
#include "handlers/leaderboard_history.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/model_card.h"
#include "http/reply.h"
#include "util/clock.h"

/* n digits of s into *out; 0 or -1. */
static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int days_in(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return days[month - 1] + (month == 2 && leap);
}

int leaderboard_as_of_parse(const char *s, int64_t *ms) {
  int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
  size_t n = strlen(s);
  if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
      s[7] != '-' || digits(s + 8, 2, &d))
    return -1;
  if (n > 10) {
    const char *t = s + 10;
    if ((*t != 'T' && *t != 't' && *t != ' ') || n < 20 ||
        digits(t + 1, 2, &h) || t[3] != ':' || digits(t + 4, 2, &mi) ||
        t[6] != ':' || digits(t + 7, 2, &sec))
      return -1;
    const char *p = t + 9;
    if (*p == '.') {
      int k = 0;
      for (p++; isdigit((unsigned char)*p); p++, k++)
        if (k < 3)
          frac = frac * 10 + (*p - '0');
      if (k == 0)
        return -1;
      for (; k < 3; k++)
        frac *= 10;
    }
    if ((*p != 'Z' && *p != 'z') || p[1])
      return -1;
  }
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) ||
      h > 23 || mi > 59 || sec > 59)
    return -1;
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                  .tm_hour = h, .tm_min = mi, .tm_sec = sec};
  time_t secs = timegm(&tm);
  if (secs == (time_t)-1)
    return -1;
  *ms = (int64_t)secs * 1000 + frac;
  return 0;
}

struct past_row {
  const struct model_config *cfg;
  struct rating_row r;
  struct model_summary s;
  int rated;
};

static double sort_key(const struct past_row *x, int by_bt) {
  if (by_bt)
    return x->rated ? x->s.bt : -INFINITY;
  return x->r.elo;
}

static int cmp_rows(const void *p, const void *q, void *ctx) {
  const struct past_row *a = p, *b = q;
  int by_bt = *(const int *)ctx;
  double ka = sort_key(a, by_bt), kb = sort_key(b, by_bt);
  if (ka != kb)
    return ka < kb ? 1 : -1;
  return strcmp(a->cfg->name, b->cfg->name);
}

static json_t *num(double x) { return isnan(x) ? json_null() : json_real(x); }

static json_t *rows_json(struct past_row *rows, size_t n, int provisional,
                         int by_bt) {
  json_t *arr = json_array();
  size_t rank = 1;
  qsort_r(rows, n, sizeof *rows, cmp_rows, &by_bt);
  for (size_t i = 0; i < n; i++) {
    const struct past_row *x = &rows[i];
    if (i > 0 && sort_key(x, by_bt) < sort_key(&rows[i - 1], by_bt))
      rank = i + 1;
    json_t *o = json_pack(
        "{s:I, s:s, s:f, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b}", "rank",
        (json_int_t)rank, "model", x->cfg->name, "elo", x->r.elo, "bt",
        x->rated ? num(x->s.bt) : json_null(), "ci_low",
        x->rated ? num(x->s.ci_low) : json_null(), "ci_high",
        x->rated ? num(x->s.ci_high) : json_null(), "rank_ub",
        x->rated && x->s.rank_ub ? json_integer(x->s.rank_ub) : json_null(),
        "battles", (json_int_t)x->r.battles, "wins", (json_int_t)x->r.wins,
        "losses", (json_int_t)x->r.losses, "ties", (json_int_t)x->r.ties,
        "provisional", provisional);
    model_card_set(o, x->cfg);
    json_array_append_new(arr, o);
  }
  return arr;
}

enum MHD_Result leaderboard_as_of_reply(struct request *rq, int64_t as_of,
                                        int by_bt) {
  const struct config *cfg = rq->cfg;
  char when[32];
  format_rfc3339_ms(as_of, when);
  struct history_board *b = arena_history_board(rq->arena, as_of);
  if (!b)
    return reply_json(rq, MHD_HTTP_OK,
                      json_pack("{s:b, s:s}", "pending", 1, "as_of", when));
  struct past_row *rows = calloc(cfg->n_models + 1, sizeof *rows);
  struct past_row *prov = calloc(cfg->n_models + 1, sizeof *prov);
  size_t n = 0, n_prov = 0;
  enum MHD_Result res = MHD_NO;
  if (!rows || !prov)
    goto out;
  for (size_t i = 0; i < cfg->n_models; i++) {
    const struct model_config *m = &cfg->models[i];
    if (!m->enabled)
      continue;
    struct past_row x = {.cfg = m};
    const struct rating_row *r = rating_table_find(&b->elo, m->name);
    if (r)
      x.r = *r;
    else
      x.r.elo = ELO_INITIAL;
    x.r.model = NULL; /* not ours to keep */
    int k = b->snap ? bt_snapshot_find(b->snap, m->name) : -1;
    if (k >= 0 && b->snap->s[k].component >= 0) {
      x.s = b->snap->s[k];
      x.rated = 1;
    }
    if (x.r.battles < cfg->min_battles)
      prov[n_prov++] = x;
    else
      rows[n++] = x;
  }
  char computed[32];
  format_rfc3339_ms(b->computed_at, computed);
  json_t *body = json_pack(
      "{s:b, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:o, s:o}", "pending", 0,
      "source", "human", "as_of", when, "votes", (json_int_t)b->votes, "sort",
      by_bt ? "bt" : "elo", "min_battles", (json_int_t)cfg->min_battles,
      "bootstrap_rounds", (json_int_t)cfg->bootstrap_rounds, "bt_votes",
      (json_int_t)(b->snap ? pair_table_total(&b->snap->pairs) : 0),
      "computed_at", computed, "models", rows_json(rows, n, 0, by_bt),
      "provisional", rows_json(prov, n_prov, 1, by_bt));
  res = reply_json(rq, MHD_HTTP_OK, body);
out:
  free(rows);
  free(prov);
  history_board_unref(b);
  return res;
}

enum MHD_Result handle_leaderboard_history(struct request *rq) {
  size_t len = 0;
  char *text = arena_history_series(rq->arena, &len);
  if (!text)
    return reply_json(rq, MHD_HTTP_OK, json_pack("{s:b}", "pending", 1));
  enum MHD_Result res = reply_json_text(rq, MHD_HTTP_OK, text, len);
  free(text);
  return res;
}
