/* The route table: every endpoint, its method and its handler (one file
 * each in handlers/). The HTTP layer matches requests against it. */
#include "handlers/handlers.h"

const struct route agon_routes[] = {
    {.method = "POST", .pattern = "/api/battles", .handler = &handle_battle_create, .json_body = 1},
    {.method = "GET", .pattern = "/api/battles/:id", .handler = &handle_battle_get},
    {.method = "GET", .pattern = "/api/battles/:id/events", .handler = &handle_battle_events},
    {.method = "POST", .pattern = "/api/battles/:id/turns", .handler = &handle_battle_turn, .json_body = 1},
    {.method = "POST", .pattern = "/api/battles/:id/regenerate", .handler = &handle_battle_regenerate, .json_body = 1},
    {.method = "POST", .pattern = "/api/battles/:id/retry", .handler = &handle_battle_retry, .json_body = 1},
    {.method = "POST", .pattern = "/api/battles/:id/vote", .handler = &handle_battle_vote, .json_body = 1},
    {.method = "POST", .pattern = "/api/battles/:id/share", .handler = &handle_battle_share, .json_body = 1},
    {.method = "DELETE", .pattern = "/api/battles/:id/share", .handler = &handle_battle_unshare},
    {.method = "GET", .pattern = "/api/shared/:id", .handler = &handle_shared_get},
    {.method = "GET", .pattern = "/s/:id", .handler = &handle_share_page},
    {.method = "GET", .pattern = "/api/arena", .handler = &handle_arena_settings},
    {.method = "GET", .pattern = "/api/leaderboard", .handler = &handle_leaderboard},
    {.method = "GET", .pattern = "/api/leaderboard/mine", .handler = &handle_leaderboard_mine},
    {.method = "GET", .pattern = "/api/leaderboard/matrix", .handler = &handle_leaderboard_matrix},
    {.method = "GET", .pattern = "/api/leaderboard/slices", .handler = &handle_leaderboard_slices},
    {.method = "GET", .pattern = "/api/leaderboard/history", .handler = &handle_leaderboard_history},
    {.method = "GET", .pattern = "/api/models", .handler = &handle_models},
    {.method = "GET", .pattern = "/api/judges", .handler = &handle_judges},
    {.method = "GET", .pattern = "/api/benchmarks", .handler = &handle_benchmarks},
    {.method = "POST", .pattern = "/api/admin/reload", .handler = &handle_admin_reload, .essential = 1},
    {.method = "GET", .pattern = "/api/admin/battles", .handler = &handle_admin_battles, .essential = 1},
    {.method = "GET", .pattern = "/api/admin/export", .handler = &handle_admin_export, .essential = 1},
    {.method = "POST", .pattern = "/api/admin/models/:id", .handler = &handle_admin_model, .json_body = 1, .essential = 1},
    {.method = "GET", .pattern = "/api/admin/nodes", .handler = &handle_admin_nodes, .essential = 1},
    {.method = "GET", .pattern = "/healthz", .handler = &handle_health, .essential = 1},
    {.method = "GET", .pattern = "/metrics", .handler = &handle_metrics, .essential = 1},
    {.method = "GET", .pattern = "/", .handler = &handle_static},
    {.method = "GET", .pattern = "/leaderboard", .handler = &handle_static},
    {.method = "GET", .pattern = "/:id", .handler = &handle_static},
    {.method = NULL},
};

