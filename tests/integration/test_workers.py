"""No HTTP worker waits on the disk (issue 11): a vote, or a follow-up turn,
waiting for its commit suspends its connection, and the two libmicrohttpd
workers go on serving everyone else.

The database is held by another process (a write transaction: Python's
sqlite3, or psql on PostgreSQL, Agon.writes_held), so the writer thread
cannot commit; meanwhile more votes and
follow-ups than there are workers are waiting, and other requests must
still be answered, before the lock is released. Order, not timing: every
answer is checked to come while the votes are still waiting."""

import threading

from conftest import two_echo_models


def test_waiting_votes_and_turns_do_not_hold_the_workers(agon_factory):
    agon = agon_factory(two_echo_models())
    owners = []
    for i in range(6):
        c = agon.client()
        bid, es = c.battle("battle %d" % i)
        assert es.end["status"] == "ready"
        owners.append((c, bid))

    # from the database from now on, not from memory
    agon.restart()
    for c, _ in owners:
        c.port = agon.port
    held = agon.writes_held()
    held.__enter__()
    results = {}

    def vote(c, bid):
        results[bid] = c.post("/api/battles/%s/vote" % bid, {"winner": "a"}, timeout=30).status

    def turn(c, bid):
        results[bid] = c.post("/api/battles/%s/turns" % bid, {"prompt": "more"},
                              timeout=30).status

    threads = [threading.Thread(target=vote, args=o) for o in owners[:4]]
    threads += [threading.Thread(target=turn, args=o) for o in owners[4:]]
    for t in threads:
        t.start()
    try:
        other = agon.client()
        for _ in range(3):
            for path in ("/healthz", "/api/models", "/api/leaderboard", "/api/judges",
                         "/api/battles/" + owners[0][1], "/api/battles/" + owners[5][1],
                         "/"):
                r = other.get(path, timeout=3)
                assert r.status == 200, (path, r)
            # the votes and turns are all still waiting for the database
            assert not results, results
            assert all(t.is_alive() for t in threads)
    finally:
        held.__exit__(None, None, None)
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == [200] * 4 + [202] * 2, results
