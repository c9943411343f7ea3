/* The tables an arena is made of, in the order migrate copies them, and
 * the dispatchers of the rows' operations (storage/rows.h). */
#include "storage/rows.h"

#include "storage/ops.h"

const struct store_table store_tables[] = {
    /* what the others refer to first */
    {.name = "battles", .key = "id"},
    {.name = "turns", .key = "battle_id, turn"},
    {.name = "votes", .key = "seq", .serial = "seq"},
    {.name = "judgments", .key = "id", .serial = "id"},
    {.name = "battle_categories", .key = "battle_id, category"},
    {.name = "replaced_answers", .key = "battle_id, turn, side, attempt"},
    {.name = "side_replacements", .key = "battle_id, seq"},
    {.name = "shares", .key = "token"},
    /* agon bench's runs, their items and scores (schema/0015) */
    {.name = "bench_runs", .key = "id", .serial = "id"},
    {.name = "bench_items", .key = "run_id, line"},
    {.name = "bench_results", .key = "run_id, grp, metric"},
    /* what the votes add up to, as stored (agon recompute checks it) */
    {.name = "ratings", .key = "model", .stored_order = 1},
    {.name = "pair_counts", .key = "model_a, model_b", .stored_order = 1},
    {.name = "slice_pairs", .key = "slice, model_a, model_b"},
    {.name = "prompt_counts", .key = "hash"},
    {.name = "dedup_stats", .key = "id", .seeded = 1},
    /* the arena's secret for keyed hashes, and the like */
    {.name = "meta", .key = "key"},
    /* the nodes running on the database (schema/0014): a running node's
     * state only, never copied */
    {.name = "nodes", .key = "name", .transient = 1},
};

const size_t store_n_tables = sizeof store_tables / sizeof store_tables[0];

int store_rows_read(struct store *st, store_row_fn fn, void *ctx, char *err,
                    size_t errlen) {
  return STORE_OPS(st)->rows_read(st->impl, store_tables, store_n_tables, fn, ctx,
                            err, errlen);
}

int store_rows_write_tx(struct store *st, const struct store_table *t,
                        const struct store_row *rows, size_t n, char *err,
                        size_t errlen) {
  return STORE_OPS(st)->rows_write(st->impl, t, rows, n, err, errlen);
}
