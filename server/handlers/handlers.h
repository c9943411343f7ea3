/* Every endpoint, one file each under server/handlers/. */
#ifndef AGON_HANDLERS_HANDLERS_H
#define AGON_HANDLERS_HANDLERS_H

#include <microhttpd.h>

#include "http/request.h"
#include "http/router.h"

/* The route table (handlers/routes.c), ended by a NULL method. */
extern const struct route agon_routes[];

enum MHD_Result handle_battle_create(struct request *rq); /* battle_create.c */
enum MHD_Result handle_battle_get(struct request *rq);    /* battle_get.c */
enum MHD_Result handle_battle_events(struct request *rq); /* battle_events.c */
enum MHD_Result handle_battle_turn(struct request *rq);   /* battle_turn.c */
/* 202 {turn, events}: a turn asked (a follow-up, a regenerate, a retry),
 * its events to open (battle_turn.c). */
enum MHD_Result reply_turn_accepted(struct request *rq, int turn);
enum MHD_Result handle_battle_regenerate(struct request *rq); /* battle_replace.c */
enum MHD_Result handle_battle_retry(struct request *rq);  /* battle_replace.c */
enum MHD_Result handle_battle_vote(struct request *rq);   /* battle_vote.c */
enum MHD_Result handle_battle_share(struct request *rq);  /* battle_share.c */
enum MHD_Result handle_battle_unshare(struct request *rq); /* battle_share.c */
enum MHD_Result handle_shared_get(struct request *rq);    /* shared_get.c */
enum MHD_Result handle_share_page(struct request *rq);    /* share_page.c */
enum MHD_Result handle_arena_settings(struct request *rq); /* arena_settings.c */
enum MHD_Result handle_leaderboard_mine(struct request *rq); /* leaderboard_mine.c */
enum MHD_Result handle_leaderboard(struct request *rq);   /* leaderboard.c */
enum MHD_Result handle_leaderboard_matrix(struct request *rq); /* leaderboard_matrix.c */
enum MHD_Result handle_leaderboard_slices(struct request *rq); /* leaderboard_slice.c */
enum MHD_Result handle_leaderboard_history(struct request *rq); /* leaderboard_history.c */
enum MHD_Result handle_models(struct request *rq);        /* models.c */
enum MHD_Result handle_judges(struct request *rq);        /* judges.c */
enum MHD_Result handle_benchmarks(struct request *rq);    /* benchmarks.c */
enum MHD_Result handle_health(struct request *rq);        /* health.c */
enum MHD_Result handle_metrics(struct request *rq);       /* metrics.c */
enum MHD_Result handle_static(struct request *rq);        /* static.c */
enum MHD_Result handle_admin_reload(struct request *rq);  /* admin.c */
enum MHD_Result handle_admin_battles(struct request *rq); /* admin.c */
enum MHD_Result handle_admin_export(struct request *rq);  /* admin.c */
enum MHD_Result handle_admin_model(struct request *rq);   /* admin.c */
enum MHD_Result handle_admin_nodes(struct request *rq);   /* admin.c */

/* Load the embedded assets into persistent responses (static.c).
 * Returns 0 or -1. */
int static_init(void);
void static_release(void);

/* Serve web assets from this directory instead (development; NULL or
 * "" for the built-in copies). Only built-in asset names are served. */
void static_set_dir(const char *dir);

#endif
