# S3 login under load ($LOGIN_CLIENTS clients logging in in a loop, a whoami probe at $PROBE_RATE/s),
# S4 the same with a burst of 500 wrong passwords for one account at the start of its window, and
# reference (c): one bcrypt verify at cost 12 (htpasswd's C bcrypt, and the server's crate).

# login_load NAME [args...]: py/login_load.py against the first instance, its JSON in parts/NAME.json.
# The generator runs at a higher priority (when allowed) so that its own scheduling lag on the
# shared cores does not count as server latency; it needs ~1% of a core. Its lag is reported.
login_load() {
    local name=$1; shift
    local gen_nice=()
    if [[ $(id -u) -eq 0 ]]; then gen_nice=(nice -n -10); fi
    phase "$name"; cpu_mark "$name.before"; pgss_reset
    "${gen_nice[@]}" python3 "$PY/login_load.py" --base "$BASE" --users "$WORK/users.json" --password "$CUSTOMER_PASSWORD" \
        --clients "$LOGIN_CLIENTS" --rate "$PROBE_RATE" --seconds "$SECONDS_PER_RUN" "$@" >"$WORK/parts/$name.json"
    cpu_mark "$name.after"; pgss_dump "$name"
}

scenario_s3_login_under_load() {
    log "S3 login under load: $LOGIN_CLIENTS login clients + ${PROBE_RATE}/s whoami probe, ${SECONDS_PER_RUN}s"
    login_load s3
}

scenario_s4_guessing_burst() {
    log "S4 guessing burst: 500 wrong logins for one account at once, with S3's $LOGIN_CLIENTS login clients and probe, ${SECONDS_PER_RUN}s"
    local burst_user
    burst_user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["customers"][-2]["username"])' "$WORK/users.json")
    login_load s4 --burst 500 --burst-user "$burst_user"
}

reference_bcrypt() {
    log "reference (c): one bcrypt verify at cost 12 (htpasswd, and the server's bcrypt crate; one core)"
    phase bcrypt
    python3 "$PY/bcrypt_ref.py" --cost 12 --runs 5 --crate-bin "$CRATE_BCRYPT" >"$WORK/parts/bcrypt.json"
}
