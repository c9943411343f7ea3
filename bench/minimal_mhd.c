/* The baseline for the leaderboard benchmark: the least a libmicrohttpd
 * server can do to answer a request, in the threading mode Agon uses
 * (epoll, internal thread, a pool of 2, suspend/resume allowed, the same
 * connection limits).
 *
 *   minimal_mhd --body FILE [--headers FILE] [--port 0] [--threads 2]
 *
 * Every request gets 200 and the bytes of FILE, with the headers of
 * --headers ("Name: value" lines, e.g. the ones Agon sent for the same
 * body). The response is built once and shared.
 *
 * Prints "minimal_mhd: listening on PORT". */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

static struct MHD_Response *response;

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **req_cls) {
  (void)cls;
  (void)url;
  (void)method;
  (void)version;
  (void)upload;
  /* answer once the request is fully read (the second call), as Agon
   * does: queued earlier, libmicrohttpd closes the connection after it */
  static int seen;
  if (!*req_cls) {
    *req_cls = &seen;
    return MHD_YES;
  }
  if (*upload_size) {
    *upload_size = 0;
    return MHD_YES;
  }
  return MHD_queue_response(conn, MHD_HTTP_OK, response);
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 1 << 16, n = 0;
  char *p = malloc(cap);
  size_t r;
  while (p && (r = fread(p + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n - 1 == 0) {
      char *q = realloc(p, cap *= 2);
      if (!q) {
        free(p);
        p = NULL;
      }
      p = q;
    }
  }
  fclose(f);
  if (p)
    p[n] = '\0';
  *len = n;
  return p;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"body", required_argument, NULL, 'b'},
      {"headers", required_argument, NULL, 'H'},
      {"port", required_argument, NULL, 'p'},
      {"threads", required_argument, NULL, 't'},
      {NULL, 0, NULL, 0}};
  const char *body_file = NULL, *headers_file = NULL;
  unsigned port = 0, threads = 2;
  int c;
  while ((c = getopt_long(argc, argv, "b:H:p:t:", opts, NULL)) != -1) {
    switch (c) {
    case 'b': body_file = optarg; break;
    case 'H': headers_file = optarg; break;
    case 'p': port = (unsigned)atoi(optarg); break;
    case 't': threads = (unsigned)atoi(optarg); break;
    default: body_file = NULL; optind = argc; break;
    }
  }
  if (!body_file) {
    fprintf(stderr, "usage: minimal_mhd --body FILE [--headers FILE] "
                    "[--port P] [--threads T]\n");
    return 2;
  }
  size_t len;
  char *body = slurp(body_file, &len);
  if (!body) {
    fprintf(stderr, "minimal_mhd: cannot read %s\n", body_file);
    return 1;
  }
  response = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
  if (headers_file) {
    size_t hl;
    char *h = slurp(headers_file, &hl);
    if (!h) {
      fprintf(stderr, "minimal_mhd: cannot read %s\n", headers_file);
      return 1;
    }
    for (char *line = strtok(h, "\r\n"); line; line = strtok(NULL, "\r\n")) {
      char *colon = strchr(line, ':');
      if (!colon)
        continue;
      *colon = '\0';
      char *v = colon + 1;
      while (*v == ' ')
        v++;
      MHD_add_response_header(response, line, v);
    }
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
          MHD_USE_ERROR_LOG,
      (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_THREAD_POOL_SIZE,
      threads, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_CONNECTION_LIMIT,
      20000u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "minimal_mhd: cannot listen: %s\n", strerror(errno));
    return 1;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("minimal_mhd: listening on %u\n", info->port);
  fflush(stdout);
  int sig;
  sigwait(&sigs, &sig);
  MHD_stop_daemon(d);
  MHD_destroy_response(response);
  free(body);
  return 0;
}
