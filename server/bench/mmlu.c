/* MMLU (cais/mmlu), 5-shot per subject, as lm-eval's mmlu/default
 * templates: the description "The following are multiple choice
 * questions (with answers) about {subject, '_' as ' '}.\n\n", doc_to_text
 * "{{question.strip()}}\nA. {{choices[0]}}\nB. ...\nD. {{choices[3]}}\n
 * Answer:", the choices " A" to " D", the shots the first five of the
 * subject's dev split (sampler first_n); acc, per subject and over every
 * item (lm-eval's group, weighted by size). */
#include "bench/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/text.h"
#include "util/buf.h"

static int mmlu_parse(json_t *o, struct bench_doc *d, char *err,
                      size_t errlen) {
  char *question = NULL, *stripped = NULL;
  int rc = -1;
  struct buf b;
  buf_init(&b, 1u << 24);
  if (bench_field_str(o, "question", &question, err, errlen) ||
      bench_field_str(o, "subject", &d->group, err, errlen) ||
      bench_field_strs(json_object_get(o, "choices"), "choices", &d->options,
                       &d->n_choices, err, errlen))
    goto out;
  if (d->n_choices != 4) {
    snprintf(err, errlen, "'choices' does not hold 4 strings");
    goto out;
  }
  if (!d->group[0] || strspn(d->group, "abcdefghijklmnopqrstuvwxyz_") !=
                          strlen(d->group)) {
    snprintf(err, errlen, "'subject' is not a subject name (a-z and _)");
    goto out;
  }
  json_t *answer = json_object_get(o, "answer");
  if (!json_is_integer(answer) || json_integer_value(answer) < 0 ||
      json_integer_value(answer) > 3) {
    snprintf(err, errlen, "'answer' is not 0, 1, 2 or 3");
    goto out;
  }
  d->gold = (int)json_integer_value(answer);
  static const char *const letters[] = {"A", "B", "C", "D"};
  d->choices = bench_strs_dup((char *const *)letters, 4);
  stripped = py_strip(question);
  if (!d->choices || !stripped || buf_append_str(&b, stripped))
    goto oom;
  for (size_t i = 0; i < 4; i++)
    if (buf_append_str(&b, "\n") || buf_append_str(&b, letters[i]) ||
        buf_append_str(&b, ". ") || buf_append_str(&b, d->options[i]))
      goto oom;
  if (buf_append_str(&b, "\nAnswer:"))
    goto oom;
  d->query = buf_steal(&b);
  d->question = question;
  question = NULL;
  rc = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  buf_release(&b);
  free(question);
  free(stripped);
  return rc;
}

static char *mmlu_description(const struct bench_doc *d) {
  static const char head[] =
      "The following are multiple choice questions (with answers) about ";
  size_t len = sizeof head + strlen(d->group) + 3;
  char *s = malloc(len);
  if (!s)
    return NULL;
  int n = snprintf(s, len, "%s%s.\n\n", head, d->group);
  for (int i = (int)sizeof head - 1; i < n; i++)
    if (s[i] == '_')
      s[i] = ' ';
  return s;
}

const struct bench_task bench_task_mmlu = {
    .name = "mmlu",
    .title = "MMLU",
    .fields = "question, subject, choices (4), answer (0-3)",
    .shots = 5,
    .kind = BENCH_CHOICE,
    .sampler = BENCH_SAMPLER_FIRST_N,
    .generate = 1,
    .parse = mmlu_parse,
    .description = mmlu_description,
};
