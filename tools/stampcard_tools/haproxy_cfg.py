"""HAProxy's configuration for a loopback run, made from the production file.

  python3 -m stampcard_tools.haproxy_cfg DEPLOY_CFG OUT_CFG --tmp DIR --port PORT \
      --monitoring-port PORT SERVER_PORT...

Reads deploy/haproxy.cfg and rewrites only what a loopback run needs: the log target (stdout,
which the caller sends to a file), the chroot and the stats socket (into DIR), the two listen
addresses, and the server lines. Everything else (balance roundrobin, the /readyz health check,
timeouts, retries, the forwardfor and keep-alive defaults, per-request logging) is the
production file's. Each rewrite must match exactly as often as expected, so a changed
production file fails the run loudly rather than being tested or measured half-way.

Both the benchmark's S5 (the command line) and the cluster test (tests/cluster/harness/services.py
imports `loopback`) use it. The first len(SERVER_PORT) server lines point at the instances, the rest
are removed (the benchmark runs two instances, the production file lists three). Not root: the
chroot and the user/group lines are dropped, as HAProxy could not apply them.
"""
import argparse
import os
import re
import sys


def rewrite(text, pattern, repl, count):
    text, n = re.subn(pattern, repl, text, flags=re.M)
    if n != count:
        raise ValueError(f"expected {count} line(s) matching {pattern!r}, found {n}")
    return text


def server_names(text):
    return re.findall(r"^\s*server\s+(\S+)\s+\S+", text, re.M)


def loopback(text, tmp, port, monitoring_port, server_ports):
    """The production configuration `text` rewritten for loopback; returns (text, the names of
    the servers kept, in order of `server_ports`). Makes DIR/haproxy-chroot when root."""
    servers = server_names(text)
    if len(servers) < len(server_ports):
        raise ValueError(f"{len(servers)} server lines for {len(server_ports)} instances")
    chroot = os.path.join(tmp, "haproxy-chroot")
    if os.getuid() == 0:
        text = rewrite(text, r"^(\s*)chroot \S+", r"\1chroot " + chroot, 1)
        os.makedirs(chroot, exist_ok=True)
    else:
        text = rewrite(text, r"^\s*(chroot|user|group) \S+\n", "", 3)
    text = rewrite(text, r"^(\s*)log /dev/log (\S+)", r"\1log stdout format raw \2", 1)
    text = rewrite(text, r"^(\s*)stats socket \S+", r"\1stats socket " + os.path.join(tmp, "haproxy.sock"), 1)
    text = rewrite(text, r"^(\s*)bind :80$", rf"\1bind 127.0.0.1:{port}", 1)
    text = rewrite(text, r"^(\s*)bind 127\.0\.0\.1:8404$", rf"\1bind 127.0.0.1:{monitoring_port}", 1)
    for i, srv in enumerate(servers):
        if i < len(server_ports):
            text = rewrite(text, rf"^(\s*server\s+{re.escape(srv)}\s+)\S+", rf"\g<1>127.0.0.1:{server_ports[i]}", 1)
        else:
            text = rewrite(text, rf"^\s*server\s+{re.escape(srv)}\s+.*\n", "", 1)
    return text, servers[:len(server_ports)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("deploy_cfg")
    ap.add_argument("out_cfg")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--monitoring-port", type=int, required=True)
    ap.add_argument("server_ports", type=int, nargs="+")
    args = ap.parse_args()

    try:
        text, servers = loopback(open(args.deploy_cfg).read(), args.tmp, args.port, args.monitoring_port,
                                 args.server_ports)
    except ValueError as e:
        sys.exit(f"stampcard_tools.haproxy_cfg: {args.deploy_cfg}: {e}")
    with open(args.out_cfg, "w") as f:
        f.write("# Made by tools/stampcard_tools/haproxy_cfg.py from %s for the benchmark's S5.\n" % args.deploy_cfg)
        f.write(text)
    print(" ".join(servers))


if __name__ == "__main__":
    main()
