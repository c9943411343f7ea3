/* HellaSwag (Rowan/hellaswag), 10-shot, as lm-eval's hellaswag.yaml and
 * its utils.py: the query is preprocess(activity_label + ": " + ctx_a +
 * " " + ctx_b.capitalize()), the choices preprocess(ending) for each
 * ending, where preprocess strips the text, turns " [title]" into ". ",
 * drops every "[...]" and then turns each "  " into " "; acc and
 * acc_norm. */
#include "bench/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/text.h"

/* utils.py's preprocess. NULL when out of memory. */
static char *preprocess(const char *text) {
  char *a = py_strip(text);
  char *b = a ? py_replace(a, " [title]", ". ") : NULL;
  char *c = b ? py_drop_brackets(b) : NULL;
  char *d = c ? py_replace(c, "  ", " ") : NULL;
  free(a);
  free(b);
  free(c);
  return d;
}

static int hellaswag_parse(json_t *o, struct bench_doc *d, char *err,
                           size_t errlen) {
  char *activity = NULL, *ctx_a = NULL, *ctx_b = NULL, *cap = NULL,
       *joined = NULL, **endings = NULL;
  size_t n = 0;
  int rc = -1;
  if (bench_field_str(o, "activity_label", &activity, err, errlen) ||
      bench_field_str(o, "ctx_a", &ctx_a, err, errlen) ||
      bench_field_str(o, "ctx_b", &ctx_b, err, errlen) ||
      bench_field_strs(json_object_get(o, "endings"), "endings", &endings, &n,
                       err, errlen))
    goto out;
  json_t *label = json_object_get(o, "label");
  long gold = -1;
  if (json_is_integer(label)) {
    gold = (long)json_integer_value(label);
  } else if (json_is_string(label)) {
    const char *s = json_string_value(label);
    char *end;
    gold = *s ? strtol(s, &end, 10) : -1;
    if (!*s || *end)
      gold = -1;
  }
  if (gold < 0 || (size_t)gold >= n) {
    snprintf(err, errlen,
             "'label' is not the index of one of the endings (the test split "
             "has no labels: use validation)");
    goto out;
  }
  cap = py_capitalize_ascii(ctx_b);
  size_t len = strlen(activity) + strlen(ctx_a) + (cap ? strlen(cap) : 0) + 8;
  joined = cap ? malloc(len) : NULL;
  if (!joined)
    goto oom;
  snprintf(joined, len, "%s: %s %s", activity, ctx_a, cap);
  d->query = preprocess(joined);
  d->choices = calloc(n, sizeof *d->choices);
  if (!d->query || !d->choices)
    goto oom;
  d->n_choices = n;
  for (size_t i = 0; i < n; i++)
    if (!(d->choices[i] = preprocess(endings[i])))
      goto oom;
  d->gold = (int)gold;
  static const char ask[] =
      "Which ending is the most plausible continuation?\n\n";
  len = sizeof ask + strlen(d->query);
  d->question = malloc(len);
  d->options = bench_strs_dup(d->choices, n);
  if (!d->question || !d->options)
    goto oom;
  snprintf(d->question, len, "%s%s", ask, d->query);
  rc = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  free(activity);
  free(ctx_a);
  free(ctx_b);
  free(cap);
  free(joined);
  bench_strs_free(endings, n);
  return rc;
}

const struct bench_task bench_task_hellaswag = {
    .name = "hellaswag",
    .title = "HellaSwag",
    .fields = "activity_label, ctx_a, ctx_b, endings, label",
    .shots = 10,
    .kind = BENCH_CHOICE,
    .sampler = BENCH_SAMPLER_RANDOM,
    .generate = 1,
    .acc_norm = 1,
    .parse = hellaswag_parse,
};
