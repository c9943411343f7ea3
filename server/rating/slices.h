/* Leaderboard slices: the battles of one language, of one category, or of
 * both ("language=ko", "category=coding", "language=ko&category=coding"),
 * each with its own pair counts for Bradley-Terry. A counted vote adds
 * its outcome to every slice its battle's tags put it in (slice_keys);
 * so a slice's fit never rescans votes. Pure: no I/O, no locks (the
 * caller's: the live ratings' lock).
 *
 * Bounded: languages are ISO codes CLD2 can name, categories the built-in
 * and configured ones, so a table holds at most languages x (categories
 * + 1) + categories slices; lookups are linear over them. */
#ifndef AGON_RATING_SLICES_H
#define AGON_RATING_SLICES_H

#include <stddef.h>

#include "rating/elo.h"
#include "rating/pairs.h"

#define SLICE_KEY_MAX 96   /* bytes of a key with its NUL */
#define SLICE_CAT_MAX 32   /* bytes of a category name with its NUL */
#define SLICE_LANG_MAX 8   /* bytes of a language code with its NUL */

/* The key of the slice of language (NULL or "": any) and category (NULL
 * or "": any) into out; "" for the whole board. Returns 0, or -1 when a
 * part is too long or holds a character outside [a-z0-9_-]. */
int slice_key(char out[SLICE_KEY_MAX], const char *language,
              const char *category);

/* The language and category of a key made by slice_key (each "" when
 * the key has none; both for "", the whole board). Returns 0, or -1 when key is not such a key. */
int slice_key_parts(const char *key, char language[SLICE_LANG_MAX],
                    char category[SLICE_CAT_MAX]);

/* The keys of the slices a battle is in: its language (unless "und" or
 * empty), each of its categories, and each category within its language.
 * At most max keys into out; returns how many. */
size_t slice_keys(const char *language, const char *const *categories,
                  size_t n_categories, char (*out)[SLICE_KEY_MAX],
                  size_t max);

struct slice {
  char *key;                 /* owned */
  struct pair_table pairs;
  long votes;                /* outcomes counted in it */
};

struct slice_table {
  struct slice *s;
  size_t n, cap;
};

void slice_table_init(struct slice_table *t);
void slice_table_release(struct slice_table *t);
/* Deep copy; 0 or -1 (dst is then empty). */
int slice_table_copy(struct slice_table *dst, const struct slice_table *src);

/* The slice of key, or NULL (created when absent with create; NULL also
 * when out of memory). */
struct slice *slice_table_get(struct slice_table *t, const char *key,
                              int create);
const struct slice *slice_table_find(const struct slice_table *t,
                                     const char *key);

/* Count one outcome of a battle between x (side a) and y (side b) in the
 * slice of key. 0, or -1 when out of memory. */
int slice_table_add(struct slice_table *t, const char *key, const char *x,
                    const char *y, enum winner w);

#endif
