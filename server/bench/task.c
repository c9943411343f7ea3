/* The task table and what the task files share (task.h). */
#include "bench/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct bench_task *const bench_tasks[] = {
    &bench_task_arc_challenge, &bench_task_hellaswag,
    &bench_task_mmlu,          &bench_task_truthfulqa_mc2,
    &bench_task_winogrande,    &bench_task_gsm8k,
    NULL,
};

const struct bench_task *bench_task_find(const char *name) {
  for (size_t i = 0; bench_tasks[i]; i++)
    if (!strcmp(bench_tasks[i]->name, name))
      return bench_tasks[i];
  return NULL;
}

const char *bench_primary_metric(const struct bench_task *t, int generate) {
  if (t->kind == BENCH_GENERATE)
    return "strict_match";
  if (t->mc2)
    return "mc2";
  return !generate && t->acc_norm ? "acc_norm" : "acc";
}

void bench_strs_free(char **s, size_t n) {
  if (!s)
    return;
  for (size_t i = 0; i < n; i++)
    free(s[i]);
  free(s);
}

char **bench_strs_dup(char *const *s, size_t n) {
  char **out = calloc(n ? n : 1, sizeof *out);
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    out[i] = strdup(s[i]);
    if (!out[i]) {
      bench_strs_free(out, i);
      return NULL;
    }
  }
  return out;
}

void bench_doc_release(struct bench_doc *d) {
  json_decref(d->raw);
  free(d->group);
  free(d->query);
  bench_strs_free(d->choices, d->n_choices);
  bench_strs_free(d->options, d->n_choices);
  free(d->labels);
  free(d->target);
  free(d->question);
  memset(d, 0, sizeof *d);
}

int bench_field_str(json_t *o, const char *name, char **out, char *err,
                    size_t errlen) {
  const char *v = json_string_value(json_object_get(o, name));
  if (!v) {
    snprintf(err, errlen, "'%s' is missing or not a string", name);
    return -1;
  }
  *out = strdup(v);
  if (!*out) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

int bench_field_strs(json_t *arr, const char *name, char ***out, size_t *n,
                     char *err, size_t errlen) {
  size_t k = json_array_size(arr);
  if (!json_is_array(arr) || k < 2) {
    snprintf(err, errlen, "'%s' is not an array of at least 2 strings",
             name);
    return -1;
  }
  char **s = calloc(k, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < k; i++) {
    const char *v = json_string_value(json_array_get(arr, i));
    if (!v || !(s[i] = strdup(v))) {
      if (v)
        snprintf(err, errlen, "out of memory");
      else
        snprintf(err, errlen, "'%s' item %zu is not a string", name, i);
      bench_strs_free(s, i);
      return -1;
    }
  }
  *out = s;
  *n = k;
  return 0;
}
