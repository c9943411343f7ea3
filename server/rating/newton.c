#include "rating/newton.h"

#include <stdlib.h>
#include <string.h>

int newton_space_init(struct newton_space *ns, size_t P) {
  ns->theta = calloc(P + 1, sizeof(double));
  ns->trial = calloc(P + 1, sizeof(double));
  ns->g = calloc(P + 1, sizeof(double));
  ns->step = calloc(P + 1, sizeof(double));
  ns->H = calloc(P * P + 1, sizeof(double));
  if (!ns->theta || !ns->trial || !ns->g || !ns->step || !ns->H) {
    newton_space_release(ns);
    return -1;
  }
  return 0;
}

void newton_space_release(struct newton_space *ns) {
  free(ns->theta);
  free(ns->trial);
  free(ns->g);
  free(ns->step);
  free(ns->H);
  memset(ns, 0, sizeof *ns);
}
