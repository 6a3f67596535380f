#!/usr/bin/env python3
"""S5: HAProxy's configuration for the benchmark, made from the production file.

  haproxy_cfg.py DEPLOY_CFG OUT_CFG --tmp DIR --port PORT --monitoring-port PORT SERVER_PORT...

Reads deploy/haproxy.cfg and rewrites only what the loopback run needs, the way the cluster
test does (.ci/cluster/infra.py, class HAProxy): the log target (stdout, which run.sh sends to a
file), the chroot and the stats socket (into DIR), the two listen addresses, and the server
lines. Everything else (balance roundrobin, the /readyz health check, timeouts, retries, the
forwardfor and keep-alive defaults, per-request logging) is the production file's. Each rewrite
must match exactly as often as expected, so a changed production file fails the benchmark
loudly rather than being measured half-way.

The production file lists three servers and the benchmark runs two instances: the first
len(SERVER_PORT) server lines point at the instances, the rest are removed (their backend has
no other use here). Not root: the chroot and the user/group lines are dropped, as HAProxy could
not apply them.
"""
import argparse
import os
import re
import sys


def rewrite(text, pattern, repl, count):
    text, n = re.subn(pattern, repl, text, flags=re.M)
    if n != count:
        sys.exit(f"haproxy_cfg.py: expected {count} line(s) matching {pattern!r}, found {n}")
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("deploy_cfg")
    ap.add_argument("out_cfg")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--monitoring-port", type=int, required=True)
    ap.add_argument("server_ports", type=int, nargs="+")
    args = ap.parse_args()

    text = open(args.deploy_cfg).read()
    servers = re.findall(r"^\s*server\s+(\S+)\s+\S+", text, re.M)
    if len(servers) < len(args.server_ports):
        sys.exit(f"haproxy_cfg.py: {args.deploy_cfg} has {len(servers)} server lines, "
                 f"the benchmark runs {len(args.server_ports)} instances")
    chroot = os.path.join(args.tmp, "haproxy-chroot")
    root = os.getuid() == 0
    text = rewrite(text, r"^(\s*)log /dev/log (\S+)", r"\1log stdout format raw \2", 1)
    if root:
        text = rewrite(text, r"^(\s*)chroot \S+", r"\1chroot " + chroot, 1)
    else:
        text = rewrite(text, r"^\s*(chroot|user|group) \S+\n", "", 3)
    text = rewrite(text, r"^(\s*)stats socket \S+", r"\1stats socket " + os.path.join(args.tmp, "haproxy.sock"), 1)
    text = rewrite(text, r"^(\s*)bind :80$", rf"\1bind 127.0.0.1:{args.port}", 1)
    text = rewrite(text, r"^(\s*)bind 127\.0\.0\.1:8404$", rf"\1bind 127.0.0.1:{args.monitoring_port}", 1)
    for i, srv in enumerate(servers):
        if i < len(args.server_ports):
            text = rewrite(text, rf"^(\s*server\s+{re.escape(srv)}\s+)\S+", rf"\g<1>127.0.0.1:{args.server_ports[i]}", 1)
        else:
            text = rewrite(text, rf"^\s*server\s+{re.escape(srv)}\s+.*\n", "", 1)
    os.makedirs(chroot, exist_ok=True)
    with open(args.out_cfg, "w") as f:
        f.write("# Made by bench/haproxy_cfg.py from %s for the benchmark's S5.\n" % args.deploy_cfg)
        f.write(text)
    print(" ".join(servers[:len(args.server_ports)]))


if __name__ == "__main__":
    main()
