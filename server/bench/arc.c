/* ARC-Challenge (allenai/ai2_arc, ARC-Challenge), 25-shot, as
 * lm-eval's arc_easy.yaml / arc_challenge.yaml: doc_to_text "Question:
 * {{question}}\nAnswer:", the choices' texts as continuations, the gold
 * choice the one whose label is answerKey; acc and acc_norm. */
#include "bench/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int arc_parse(json_t *o, struct bench_doc *d, char *err,
                     size_t errlen) {
  char *question = NULL, *key = NULL, **labels = NULL;
  size_t n_labels = 0;
  int rc = -1;
  json_t *choices = json_object_get(o, "choices");
  if (bench_field_str(o, "question", &question, err, errlen) ||
      bench_field_str(o, "answerKey", &key, err, errlen))
    goto out;
  if (!json_is_object(choices)) {
    snprintf(err, errlen, "'choices' is missing or not an object");
    goto out;
  }
  if (bench_field_strs(json_object_get(choices, "text"), "choices.text",
                       &d->choices, &d->n_choices, err, errlen) ||
      bench_field_strs(json_object_get(choices, "label"), "choices.label",
                       &labels, &n_labels, err, errlen))
    goto out;
  if (n_labels != d->n_choices || d->n_choices > 26) {
    snprintf(err, errlen,
             "'choices.text' and 'choices.label' differ in length (or hold "
             "more than 26)");
    goto out;
  }
  d->gold = -1;
  for (size_t i = 0; i < n_labels && d->gold < 0; i++)
    if (!strcmp(labels[i], key))
      d->gold = (int)i;
  if (d->gold < 0) {
    snprintf(err, errlen, "'answerKey' is not one of 'choices.label'");
    goto out;
  }
  size_t len = strlen(question) + sizeof "Question: \nAnswer:";
  d->query = malloc(len);
  d->options = bench_strs_dup(d->choices, d->n_choices);
  if (!d->query || !d->options) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  snprintf(d->query, len, "Question: %s\nAnswer:", question);
  d->question = question;
  question = NULL;
  rc = 0;
out:
  free(question);
  free(key);
  bench_strs_free(labels, n_labels);
  return rc;
}

const struct bench_task bench_task_arc_challenge = {
    .name = "arc_challenge",
    .title = "ARC-Challenge",
    .fields = "question, choices {text, label}, answerKey",
    .shots = 25,
    .kind = BENCH_CHOICE,
    .sampler = BENCH_SAMPLER_RANDOM,
    .generate = 1,
    .acc_norm = 1,
    .parse = arc_parse,
};
