#!/usr/bin/env python3
"""S5: where a request's time went as HAProxy saw it, from its request log (option httplog).

  haproxy_log.py LOG FROM_LINE TO_LINE    JSON for the log's lines FROM_LINE+1 .. TO_LINE

The timers of an httplog line are TR/Tw/Tc/Tr/Ta in milliseconds: the client's request
received, queued in HAProxy for a server slot, connecting to the server, the server's answer
(headers), and the whole exchange. Ta - Tr - Tc - Tw - TR is what HAProxy spent after the
server's headers (mostly sending the answer on). -1 means "did not happen" (a client that
left first); such lines count as unanswered.
"""
import json
import sys

from percentile import pct  # the same nearest-rank percentile as S3/S4's probe


def summary(values):
    return {"p50": pct(values, 50), "p90": pct(values, 90), "p99": pct(values, 99),
            "max": max(values) if values else None}


def main():
    path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    queue, connect, server, total = [], [], [], []
    lines = unanswered = not_2xx = 0
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            if n <= first:
                continue
            if n > last:
                break
            fields = line.split()
            if len(fields) < 6 or fields[2] != "stampcard" or fields[4].count("/") != 4:
                continue
            lines += 1
            try:
                t_req, t_queue, t_connect, t_server, t_total = (int(x) for x in fields[4].split("/"))
                status = int(fields[5])
            except ValueError:
                continue
            if t_server < 0 or status < 0:
                unanswered += 1
                continue
            if not 200 <= status < 300:
                not_2xx += 1
            queue.append(t_queue)
            connect.append(t_connect)
            server.append(t_server)
            total.append(t_total)
    json.dump({"requests_logged": lines, "unanswered": unanswered, "not_2xx": not_2xx,
               "queue_ms": summary(queue), "connect_ms": summary(connect),
               "server_response_ms": summary(server), "total_ms": summary(total)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
