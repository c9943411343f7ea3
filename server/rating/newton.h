/* The work space of a damped Newton fit over P parameters, which
 * Bradley-Terry (bt.c) and style control (style.c) each keep in their
 * problem. Pure. */
#ifndef AGON_RATING_NEWTON_H
#define AGON_RATING_NEWTON_H

#include <stddef.h>

struct newton_space {
  double *theta;  /* P: the iterate */
  double *trial;  /* P: a candidate along the step */
  double *g;      /* P: the gradient */
  double *step;   /* P: the Newton step */
  double *H;      /* P x P, row-major: the Hessian, factored in place */
};

/* Allocate every array, zeroed (one spare element each, so that P = 0
 * allocates too): 0, or -1 with nothing held. */
int newton_space_init(struct newton_space *ns, size_t P);

/* Free the arrays and zero ns; a zeroed ns is fine. */
void newton_space_release(struct newton_space *ns);

#endif
