/* Language detection on short prompts: CLD2 (as Agon calls it, through
 * detect_language) against libexttextcat, on bench/langid/prompts.tsv.
 * Prints a table per language (right, unsure, wrong) for each library,
 * and the time per prompt. Run: build/bench/langid_compare
 * bench/langid/prompts.tsv [fpdb.conf] */
#include <libexttextcat/textcat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tag/language.h"

#define MAX_LANGS 64
#define MAX_PROMPTS 4096

struct tally {
  char lang[8];
  int right[2], unsure[2], wrong[2];
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* textcat's first candidate ("[zh-CN-utf8][ja--utf8]" -> "zh"), or "und". */
static void textcat_code(const char *res, char out[8]) {
  if (!res || res[0] != '[') {
    strcpy(out, "und");
    return;
  }
  size_t n = strcspn(res + 1, "-]");
  if (n > 7)
    n = 7;
  memcpy(out, res + 1, n);
  out[n] = '\0';
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s prompts.tsv [fpdb.conf]\n", argv[0]);
    return 2;
  }
  const char *conf = argc > 2 ? argv[2] : "/usr/share/libexttextcat/fpdb.conf";
  void *tc = special_textcat_Init(conf, "/usr/share/libexttextcat/");
  FILE *f = fopen(argv[1], "r");
  if (!tc || !f) {
    fprintf(stderr, "cannot open %s or %s\n", argv[1], conf);
    return 1;
  }
  static char *text[MAX_PROMPTS], *want[MAX_PROMPTS];
  size_t n = 0;
  char line[8192];
  while (n < MAX_PROMPTS && fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n')
      continue;
    line[strcspn(line, "\n")] = '\0';
    char *tab = strchr(line, '\t');
    if (!tab)
      continue;
    *tab = '\0';
    want[n] = strdup(line);
    text[n] = strdup(tab + 1);
    n++;
  }
  fclose(f);
  static struct tally t[MAX_LANGS];
  size_t nt = 0;
  double spent[2] = {0, 0};
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < nt && strcmp(t[k].lang, want[i]) != 0)
      k++;
    if (k == nt && nt < MAX_LANGS)
      snprintf(t[nt++].lang, sizeof t[0].lang, "%s", want[i]);
    if (k >= MAX_LANGS)
      continue;
    char got[2][8];
    double t0 = now_s();
    for (int r = 0; r < 100; r++)
      detect_language(text[i], strlen(text[i]), got[0]);
    double t1 = now_s();
    const char *res = NULL;
    for (int r = 0; r < 100; r++)
      res = textcat_Classify(tc, text[i], strlen(text[i]));
    double t2 = now_s();
    textcat_code(res, got[1]);
    spent[0] += (t1 - t0) / 100;
    spent[1] += (t2 - t1) / 100;
    for (int lib = 0; lib < 2; lib++) {
      if (strcmp(got[lib], "und") == 0)
        t[k].unsure[lib]++;
      else if (strcmp(got[lib], want[i]) == 0)
        t[k].right[lib]++;
      else
        t[k].wrong[lib]++;
    }
  }
  printf("| language | CLD2 right | CLD2 unsure | CLD2 wrong | textcat right | "
         "textcat unsure | textcat wrong |\n|---|---|---|---|---|---|---|\n");
  int sum[2][3] = {{0}};
  for (size_t k = 0; k < nt; k++) {
    printf("| %s | %d | %d | %d | %d | %d | %d |\n", t[k].lang, t[k].right[0],
           t[k].unsure[0], t[k].wrong[0], t[k].right[1], t[k].unsure[1],
           t[k].wrong[1]);
    for (int lib = 0; lib < 2; lib++) {
      sum[lib][0] += t[k].right[lib];
      sum[lib][1] += t[k].unsure[lib];
      sum[lib][2] += t[k].wrong[lib];
    }
  }
  printf("| all (%zu) | %d | %d | %d | %d | %d | %d |\n", n, sum[0][0],
         sum[0][1], sum[0][2], sum[1][0], sum[1][1], sum[1][2]);
  printf("\nmean time per prompt: CLD2 %.1f us, textcat %.1f us\n",
         spent[0] / n * 1e6, spent[1] / n * 1e6);
  textcat_Done(tc);
  for (size_t i = 0; i < n; i++) {
    free(text[i]);
    free(want[i]);
  }
  return 0;
}
