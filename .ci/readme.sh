#!/usr/bin/env bash
# CI: the README's commands, run as a newcomer would run them, so that a README that drifts from
# the product fails CI. Its shell blocks marked with an HTML comment (invisible on GitHub) on the
# line before the fence run in order, exactly as written, from the root of a scratch copy of the
# repository (cookie jars and `./.data/` land there):
#
#   <!-- ci: serve -->   the block's first line starts the server: it runs in the background, with
#                        no DATABASE_URL, so it must make its own development database; the rest
#                        of that block (`cargo test`) is CI's own step
#   <!-- ci: run -->     the block runs, once the server answers /readyz, with `set -eu`
#
# Unmarked blocks are listed and skipped. A command fails the run when it exits non-zero, and so
# does an HTTP error: the blocks see a `curl` function that fails on a 4xx/5xx answer unless the
# command's comment names that status (`# 201; with 0 stamps left: 409 ...`), and, when the
# comment names statuses, on any answer but those.
#
# Then the README's promises about the development database are checked: `serve` made it under
# `./.data/` and printed its URL with the password masked, Ctrl-C stops the server (exit 0) and the
# cluster, and the next `serve` reuses the data.
#
# Nothing recompiles: the scratch copy's `target/` is this repository's (or $CARGO_TARGET_DIR),
# where `.ci/clients.sh` has built the release binary. The server listens on the README's
# 127.0.0.1:8080 inside a network namespace of its own (`unshare --net`, as root), so nothing else
# on the machine is in the way; without one, the port must be free.
#
# Usage: .ci/readme.sh [--keep-going] [README]
#   --keep-going  run every command even after one failed, and list every failure at the end
#   README        another README to run against this repository (default: its README.md)
# Environment: STAMPCARD_README_KEEP=1 keeps the scratch directory (server logs) afterwards.
set -euo pipefail
started_at=$SECONDS
section() { printf '\n===== %s (%ds) =====\n' "$*" "$((SECONDS - started_at))"; }

# --- inside the namespace: serve, run the blocks, check the database's promises ----------------

if [ "${1:-}" = --inside ]; then
    WORK="$2" KEEP_GOING="$3" NETNS="$4"
    REPO="$WORK/repo"
    SERVER_PID=""
    # The environment of a newcomer's shell: no DATABASE_URL, no STAMPCARD_* settings.
    clean_env=(env -i HOME="$HOME" PATH="$CLEAN_PATH" USER="$(id -un)" LOGNAME="$(id -un)"
        LANG=C.UTF-8 TERM=dumb CARGO_TERM_COLOR=never CARGO_TARGET_DIR="$CARGO_TARGET_DIR")
    [ -n "${CARGO_HOME:-}" ] && clean_env+=(CARGO_HOME="$CARGO_HOME")
    [ -n "${RUSTUP_HOME:-}" ] && clean_env+=(RUSTUP_HOME="$RUSTUP_HOME")
    [ -n "${RUSTUP_TOOLCHAIN:-}" ] && clean_env+=(RUSTUP_TOOLCHAIN="$RUSTUP_TOOLCHAIN")

    stop_server() { # stops the server as Ctrl-C in its terminal would; its exit status in STOPPED
        local pid="$SERVER_PID"
        SERVER_PID=""
        STOPPED=0
        kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "error: the server was still running 30 s after Ctrl-C" >&2
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" || STOPPED=$?
    }
    cleanup_inside() {
        local status=$?
        set +e
        [ -n "$SERVER_PID" ] && stop_server
        exit "$status"
    }
    trap cleanup_inside EXIT

    if [ "$NETNS" = 1 ]; then ip link set lo up; fi
    if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
        echo "error: something already listens on 127.0.0.1:8080, the README's address" >&2
        exit 1
    fi

    start_server() { # LOG: the README's serve line, as written, in the background
        (cd "$REPO" && exec setsid env --default-signal=INT,QUIT "${clean_env[@]}" bash -c "$(cat "$WORK/serve.line")") \
            >"$1" 2>&1 &
        SERVER_PID=$!
        for _ in $(seq 1 600); do
            if command curl -fsS -o /dev/null http://127.0.0.1:8080/readyz 2>/dev/null; then return 0; fi
            if ! kill -0 "$SERVER_PID" 2>/dev/null; then
                SERVER_PID=""
                echo "error: the README's serve command exited:" >&2
                tail -n 30 "$1" >&2
                return 1
            fi
            sleep 0.5
        done
        echo "error: http://127.0.0.1:8080/readyz never answered 200" >&2
        tail -n 30 "$1" >&2
        return 1
    }

    section "serve: $(cat "$WORK/serve.line")"
    start_server "$WORK/serve.log"
    grep '^stampcard: ' "$WORK/serve.log" || true
    echo "ready on http://127.0.0.1:8080"

    section "the marked blocks, in order"
    blocks_status=0
    (cd "$REPO" && "${clean_env[@]}" README_CI_SOURCE="$WORK/README.md" README_CI_KEEP_GOING="$KEEP_GOING" \
        bash "$WORK/README.md.sh") || blocks_status=$?

    section "the development database's promises"
    promises=()
    promise() { # TEXT COMMAND...: checks one promise of the README
        if "${@:2}"; then echo "ok: $1"; else echo "FAILED: $1" >&2; promises+=("$1"); fi
    }
    masked() { # the URL is printed, its password never
        grep -q 'using the development database postgres://postgres:\*\*\*@127.0.0.1:' "$WORK/serve.log" \
            && ! grep -qF "$(cat "$REPO/.data/password")" "$WORK/serve.log"
    }
    stopped_with_zero() { stop_server && [ "$STOPPED" = 0 ]; }
    cluster_stopped() { [ ! -e "$REPO/.data/pg/postmaster.pid" ]; }
    reused() {
        start_server "$WORK/serve-again.log" || return 1
        ! grep -q 'creating a development PostgreSQL cluster' "$WORK/serve-again.log" \
            && stop_server && [ "$STOPPED" = 0 ] && cluster_stopped
    }
    promise "serve made a development cluster under ./.data/" \
        grep -qF "creating a development PostgreSQL cluster in $REPO/.data/pg" "$WORK/serve.log"
    promise "it printed the URL it uses, with the password masked" masked
    promise "Ctrl-C stops the server with exit code 0" stopped_with_zero
    promise "... and stops the cluster" cluster_stopped
    promise "the next serve reuses the same data (and stops it again)" reused

    if [ "$blocks_status" != 0 ] || [ "${#promises[@]}" -gt 0 ]; then
        echo "--- last lines of the server log ($WORK/serve.log)"
        tail -n 15 "$WORK/serve.log"
        exit 1
    fi
    exit 0
fi

# --- outside: the scratch copy and the script made of the marked blocks ------------------------

KEEP_GOING=0
if [ "${1:-}" = --keep-going ]; then
    KEEP_GOING=1
    shift
fi
SELF="$(realpath "$0")"
README="$(realpath "${1:-$(dirname "$SELF")/../README.md}")"
cd "$(dirname "$SELF")/.."
ROOT="$PWD"
[ -f "$README" ] || { echo "error: no README at $README" >&2; exit 1; }
for tool in cargo curl git awk setsid; do
    command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool is required" >&2; exit 1; }
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
[ -x "$CARGO_TARGET_DIR/release/stampcard" ] \
    || echo "warning: no release build in $CARGO_TARGET_DIR: the README's cargo run will build one"
# A newcomer has no stampcard on the PATH: leave out any directory that holds one
# (`cargo install --path .` puts it in ~/.cargo/bin).
CLEAN_PATH=""
IFS=: read -ra path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
    [ -n "$dir" ] && [ ! -x "$dir/stampcard" ] && CLEAN_PATH="${CLEAN_PATH:+$CLEAN_PATH:}$dir"
done
export CLEAN_PATH

WORK="$(mktemp -d /tmp/stampcard-readme.XXXXXX)"
chmod 755 "$WORK" # the development cluster runs as the postgres user, under $WORK/repo/.data
cleanup() {
    local status=$?
    set +e
    # Should the inner run have been killed: its cluster must not outlive it.
    if [ -f "$WORK/repo/.data/pg/postmaster.pid" ]; then
        runuser -u postgres -- "$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" \
            -D "$WORK/repo/.data/pg" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ "${STAMPCARD_README_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
    if [ "$status" = 0 ]; then
        echo "readme: passed in $((SECONDS - started_at))s"
    else
        echo "readme: FAILED (exit $status) after $((SECONDS - started_at))s" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section "a scratch copy of the repository, README: ${README#"$ROOT"/}"
# What a clone has (tracked files, and new ones not ignored), with their times kept, so that cargo
# finds the build in target/ up to date.
mkdir "$WORK/repo"
git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done \
    | tar --null -T - -cf - | tar -C "$WORK/repo" -xpf -
# (The archive has no directory entries: give the directories their times too, or cargo takes
# web/, which build.rs watches, for changed.)
(cd "$WORK/repo" && find . -mindepth 1 -type d -print0) | while IFS= read -r -d '' dir; do
    touch -r "$ROOT/$dir" "$WORK/repo/$dir"
done
cp -p "$README" "$WORK/repo/README.md"
cp -p "$README" "$WORK/README.md"
ln -s "$CARGO_TARGET_DIR" "$WORK/repo/target"
echo "$WORK/repo (target/ -> $CARGO_TARGET_DIR)"

# README.md.sh: the marked blocks, each line on its README line number (every other line blank),
# so that bash's messages and the checks below name README lines. Line 1 loads the helpers.
awk -v prelude="$WORK/prelude.sh" -v serve_file="$WORK/serve.line" '
    function fail(msg) { printf "error: README.md:%d: %s\n", NR, msg > "/dev/stderr"; bad = 1; exit 1 }
    NR == 1 { out = ". \"" prelude "\"" }
    NR > 1 { out = "" }
    fence == "" && /^<!-- ci: (run|serve) -->[[:space:]]*$/ {
        mark = $0; sub(/^<!-- ci: /, "", mark); sub(/ -->.*/, "", mark); marked_at = NR
        print out; next
    }
    fence == "" && /^```/ {
        fence = $0; sub(/[^`].*/, "", fence); lang = substr($0, length(fence) + 1); start = NR
        shell = lang ~ /^(sh|bash|shell|console)[[:space:]]*$/
        if (mark != "" && !shell) fail("a \"ci: " mark "\" mark before a block that is not sh/bash")
        kind = mark; mark = ""; first = 1
        if (kind == "") { if (shell) skipped = skipped sprintf("  README.md:%d (```%s, unmarked)\n", NR, lang) }
        else blocks[kind]++
        print out; next
    }
    fence != "" && index($0, fence) == 1 && $0 ~ /^`+[[:space:]]*$/ { fence = ""; kind = ""; print out; next }
    mark != "" && !/^[[:space:]]*$/ { fail("a \"ci: " mark "\" mark (line " marked_at ") not followed by a block") }
    fence != "" && kind == "run" { if (NR == 1) fail("a block on line 1"); print; next }
    fence != "" && kind == "serve" && first { print > serve_file; first = 0 }
    { print out }
    END {
        if (bad) exit 1
        if (blocks["serve"] != 1) { print "error: the README needs one <!-- ci: serve --> block" > "/dev/stderr"; exit 1 }
        if (blocks["run"] < 1) { print "error: no <!-- ci: run --> block in the README" > "/dev/stderr"; exit 1 }
        printf "%d block(s) to run after the serve block; unmarked shell blocks, not run:\n%s", blocks["run"], \
            (skipped == "" ? "  none\n" : skipped) > "/dev/stderr"
    }
' "$README" >"$WORK/README.md.sh"
echo 'trap - DEBUG' >>"$WORK/README.md.sh"

cat >"$WORK/prelude.sh" <<'PRELUDE'
# Line 1 of README.md.sh: the helpers the README's blocks run with (see .ci/readme.sh).
mapfile -t README_LINES <"$README_CI_SOURCE" # README_LINES[N-1] is README line N
README_FAILURES=()
README_TRACED=""

# readme_command LINE: the command on README line LINE, with its continuation lines.
readme_command() {
    local first="$1" last="$1" n
    while [ "$first" -gt 1 ] && [[ ${README_LINES[first - 2]} == *\\ ]]; do first=$((first - 1)); done
    while [[ ${README_LINES[last - 1]} == *\\ ]]; do last=$((last + 1)); done
    for ((n = first; n <= last; n++)); do printf '%s\n' "${README_LINES[n - 1]}"; done
}

# readme_statuses LINE: the HTTP statuses that the comment of that command names, if any (a
# comment starts at a # that begins a word outside quotes).
readme_statuses() {
    local text i c quote="" prev=" " comment=""
    text="$(readme_command "$1")"
    for ((i = 0; i < ${#text}; i++)); do
        c="${text:i:1}"
        if [ -n "$quote" ]; then
            [ "$c" = "$quote" ] && quote=""
        elif [ "$c" = "'" ] || [ "$c" = '"' ]; then
            quote="$c"
        elif [ "$c" = '#' ] && [[ $prev == [[:space:]] ]]; then
            comment="${text:i}"
            break
        fi
        prev="$c"
    done
    local statuses=() re='(^|[^0-9.])([1-5][0-9][0-9])([^0-9.]|$)'
    while [[ $comment =~ $re ]]; do
        statuses+=("${BASH_REMATCH[2]}")
        comment="${comment#*"${BASH_REMATCH[2]}"}"
    done
    printf '%s\n' "${statuses[*]-}"
}

# The README's curl lines use `curl -s`: this one also checks the answer's status.
curl() {
    local line="${BASH_LINENO[0]}" out rc=0 status expected
    out="$(command curl "$@" --write-out '\n%{http_code}')" || rc=$?
    status="${out##*$'\n'}"
    out="${out%$'\n'*}"
    [ -n "$out" ] && printf '%s\n' "$out"
    if [ "$rc" != 0 ]; then
        printf '  -> curl exit %s\n' "$rc"
        return "$rc"
    fi
    expected="$(readme_statuses "$line")"
    if [ -n "$expected" ]; then
        if [[ " $expected " == *" $status "* ]]; then
            printf '  -> %s (the comment expects %s)\n' "$status" "${expected// /, }"
            return 0
        fi
        printf '  -> %s, but the comment expects %s\n' "$status" "${expected// /, }"
        return 22
    fi
    if [ "$status" -ge 400 ] || [ "$status" -lt 100 ]; then
        printf '  -> %s (no comment names it)\n' "$status"
        return 22
    fi
    printf '  -> %s\n' "$status"
}

readme_trace() { # LINE: shows each command before it runs
    { [ "$1" = "$README_TRACED" ] || [ "$1" -le 1 ] || [ "$1" -gt "${#README_LINES[@]}" ]; } && return
    README_TRACED="$1"
    printf '\nREADME.md:%s $ %s\n' "$1" "$(readme_command "$1" | sed '2,$s/^/    /')"
}
readme_failed() { # STATUS LINE
    README_FAILURES+=("README.md:$2 (exit $1): $(readme_command "$2" | head -n 1)")
    printf '  FAILED: README.md:%s exited %s\n' "$2" "$1" >&2
}
readme_summary() {
    local status=$?
    trap - DEBUG
    if [ "${#README_FAILURES[@]}" -gt 0 ]; then
        printf '\nREADME lines that failed:\n' >&2
        printf '  %s\n' "${README_FAILURES[@]}" >&2
        exit 1
    fi
    exit "$status"
}
if [ "$README_CI_KEEP_GOING" = 1 ]; then set -u; else set -eu; fi
trap 'readme_failed $? $LINENO' ERR
trap readme_summary EXIT
trap 'readme_trace $LINENO' DEBUG
PRELUDE

if [ "$KEEP_GOING" = 1 ]; then echo "(--keep-going: every command runs; the failures are listed at the end)"; fi
export CLEAN_PATH CARGO_TARGET_DIR
if command -v ip >/dev/null 2>&1 && unshare --net true 2>/dev/null; then
    unshare --net bash "$SELF" --inside "$WORK" "$KEEP_GOING" 1
else
    echo "(no network namespace: the README's 127.0.0.1:8080 must be free)"
    bash "$SELF" --inside "$WORK" "$KEEP_GOING" 0
fi
