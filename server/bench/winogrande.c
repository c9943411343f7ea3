/* WinoGrande (allenai/winogrande, winogrande_xl), 5-shot, as lm-eval's
 * winogrande/default.yaml and preprocess_winogrande.py: partial
 * scoring, a context per option (the sentence up to its "_" with the
 * option in its place) and the shared continuation (the sentence after
 * the "_", stripped), the option whose context makes it likeliest wins;
 * a shot is its right option's context, " " and the continuation; acc. */
#include "bench/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/text.h"

static int winogrande_parse(json_t *o, struct bench_doc *d, char *err,
                            size_t errlen) {
  char *sentence = NULL, *opt[2] = {NULL, NULL}, *answer = NULL;
  int rc = -1;
  if (bench_field_str(o, "sentence", &sentence, err, errlen) ||
      bench_field_str(o, "option1", &opt[0], err, errlen) ||
      bench_field_str(o, "option2", &opt[1], err, errlen) ||
      bench_field_str(o, "answer", &answer, err, errlen))
    goto out;
  if (strcmp(answer, "1") && strcmp(answer, "2")) {
    snprintf(err, errlen,
             "'answer' is not \"1\" or \"2\" (the test split has no answers: "
             "use validation)");
    goto out;
  }
  const char *blank = strchr(sentence, '_');
  if (!blank) {
    snprintf(err, errlen, "'sentence' has no blank '_'");
    goto out;
  }
  size_t head = (size_t)(blank - sentence);
  d->gold = answer[0] - '1';
  d->n_choices = 2;
  d->choices = calloc(2, sizeof *d->choices);
  d->options = bench_strs_dup(opt, 2);
  d->target = py_strip(blank + 1);
  if (!d->choices || !d->options || !d->target)
    goto oom;
  for (int i = 0; i < 2; i++) {
    size_t len = head + strlen(opt[i]) + 1;
    if (!(d->choices[i] = malloc(len)))
      goto oom;
    memcpy(d->choices[i], sentence, head);
    memcpy(d->choices[i] + head, opt[i], len - head);
  }
  static const char ask[] = "Which option correctly fills the blank (_)?\n\n";
  size_t len = sizeof ask + strlen(sentence);
  if (!(d->question = malloc(len)))
    goto oom;
  snprintf(d->question, len, "%s%s", ask, sentence);
  rc = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  free(sentence);
  free(opt[0]);
  free(opt[1]);
  free(answer);
  return rc;
}

const struct bench_task bench_task_winogrande = {
    .name = "winogrande",
    .title = "WinoGrande",
    .fields = "sentence (with one '_'), option1, option2, answer (\"1\" or \"2\")",
    .shots = 5,
    .kind = BENCH_PARTIAL,
    .sampler = BENCH_SAMPLER_RANDOM,
    .generate = 1,
    .parse = winogrande_parse,
};
