"""deploy/ as it ships: the systemd unit passes `systemd-analyze verify`, and deploy/haproxy.cfg
(only ports and paths rewritten) passes `haproxy -c` without warnings. Without a valid HAProxy
configuration the run cannot go on."""
import os
import re
import signal
import subprocess

from harness.report import check, result, section


def run(cl):
    section("deploy/: the systemd unit and the HAProxy configuration")
    unit = os.path.join(cl.h.root, "deploy", "stampcard.service")
    if subprocess.run(["sh", "-c", "command -v systemd-analyze"], capture_output=True).returncode != 0:
        result("deploy/stampcard.service: systemd-analyze verify", "SKIP", "systemd-analyze is not installed")
    else:
        # verify wants ExecStart's binary to exist: check a copy that names the binary under test.
        copy = os.path.join(cl.h.tmp, "unit", "stampcard.service")
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        text = open(unit).read()
        text, n = re.subn(r"^ExecStart=/usr/local/bin/stampcard ", f"ExecStart={cl.h.bin} ", text, flags=re.M)
        with open(copy, "w") as f:
            f.write(text)
        r = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True)
        complaints = [line for line in (r.stdout + r.stderr).splitlines() if "stampcard.service" in line]
        check("deploy/stampcard.service: systemd-analyze verify", n == 1 and r.returncode == 0 and not complaints,
              "; ".join(complaints) or (f"exit {r.returncode}" if r.returncode else ""))
        sec = subprocess.run(["systemd-analyze", "security", "--offline=yes", copy], capture_output=True,
                             text=True)
        m = re.search(r"Overall exposure level for \S+: (.*)", sec.stdout + sec.stderr)
        if m:
            print(f"     systemd-analyze security: exposure {m.group(1).strip()}")
    u = cl.h.unit
    print(f"     the harness starts instances as `{cl.h.bin} {' '.join(u.args)}` and stops them with "
          f"{signal.Signals(u.kill_signal).name}, SIGKILL after {u.stop_timeout:g}s (from the unit)")
    ok, out = cl.h.haproxy.check_config()
    check("deploy/haproxy.cfg (ports and paths rewritten): haproxy -c", ok, "" if ok else out)
    if not ok:
        raise SystemExit("cannot go on without a valid HAProxy configuration")
