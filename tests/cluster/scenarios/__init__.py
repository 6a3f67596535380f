"""The cluster test's scenarios, one module each; main.py runs them in the order it lists.

Each module has `run(cl)` (cl: harness.cluster.Cluster) and reports through harness.report:
`check(name, ok, detail)` for PASS/FAIL, `result(name, "SKIP", why)`, and `@guarded(name)` so that
an exception is that check's FAIL rather than the end of the run. A fault scenario runs its fault
under load with harness.faults.run_fault (or pinned_fault); its writes are verified with every
other fault's at the end.
"""
