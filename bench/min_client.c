/* The baseline for agon bench's runner: the least a client must do to
 * send the same requests, with as many in flight.
 *
 *   min_client URL FILE CONCURRENCY
 *
 * POSTs each line of FILE (a request body, as fake_upstream --dump
 * recorded agon bench's) to URL with libcurl's multi interface, keeping
 * CONCURRENCY transfers in flight and reusing connections, reads each
 * answer whole and throws it away. Prints "min_client: N requests, F
 * failed, S s, R requests/s". */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
  CURL *easy;
  size_t got;
};

static size_t sink(char *p, size_t size, size_t n, void *cls) {
  (void)p;
  ((struct slot *)cls)->got += size * n;
  return size * n;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: min_client URL FILE CONCURRENCY\n");
    return 2;
  }
  const char *url = argv[1];
  int conc = atoi(argv[3]);
  FILE *f = fopen(argv[2], "r");
  if (!f || conc < 1) {
    fprintf(stderr, "min_client: cannot read '%s'\n", argv[2]);
    return 2;
  }
  char **bodies = NULL, *line = NULL;
  size_t n = 0, cap = 0, lcap = 0;
  ssize_t len;
  while ((len = getline(&line, &lcap, f)) > 0) {
    if (line[len - 1] == '\n')
      line[--len] = '\0';
    if (!len)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 1024;
      bodies = realloc(bodies, cap * sizeof *bodies);
    }
    bodies[n++] = strdup(line);
  }
  free(line);
  fclose(f);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *multi = curl_multi_init();
  struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
  hdr = curl_slist_append(hdr, "Accept: application/json");
  struct slot *slots = calloc((size_t)conc, sizeof *slots);
  size_t next = 0, done = 0, failed = 0;
  int running = 0;
  double t0 = now_s();
  for (int i = 0; i < conc && next < n; i++) {
    slots[i].easy = curl_easy_init();
    CURL *e = slots[i].easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &slots[i]);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &slots[i]);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, bodies[next++]);
    curl_multi_add_handle(multi, e);
  }
  while (done < n) {
    curl_multi_perform(multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left))) {
      if (m->msg != CURLMSG_DONE)
        continue;
      CURL *e = m->easy_handle;
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      failed += m->data.result != CURLE_OK || status != 200;
      done++;
      curl_multi_remove_handle(multi, e);
      if (next < n) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, bodies[next++]);
        curl_multi_add_handle(multi, e);
      }
    }
    if (done < n)
      curl_multi_poll(multi, NULL, 0, 100, NULL);
  }
  double dt = now_s() - t0;
  printf("min_client: %zu requests, %zu failed, %.3f s, %.1f requests/s\n", n,
         failed, dt, (double)n / dt);
  for (int i = 0; i < conc; i++)
    if (slots[i].easy)
      curl_easy_cleanup(slots[i].easy);
  curl_multi_cleanup(multi);
  curl_slist_free_all(hdr);
  for (size_t i = 0; i < n; i++)
    free(bodies[i]);
  free(bodies);
  free(slots);
  curl_global_cleanup();
  return failed ? 1 : 0;
}
