"""Python shared by the benchmark (bench/) and the cluster test (tests/cluster/).

Standard library only. Not installed: the entry points (bench/run.sh, tests/cluster/run.sh) put
tools/ on PYTHONPATH, so `import stampcard_tools.httpc` works from any of their scripts.

  httpc          HTTP/1.1 JSON requests from a chosen loopback address, cookies handled by hand
  readyz         is an instance ready (GET /readyz answers 200), and waiting until it is
  haproxy_cfg    deploy/haproxy.cfg rewritten for a loopback run (addresses, paths, log target)
  haproxy_stats  HAProxy's `show stat` for the stampcard backend, and waiting until all are UP
  ports          a free TCP port on 127.0.0.1

The modules with a command line run as `python3 -m stampcard_tools.NAME ...`.
"""
