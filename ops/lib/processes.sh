# Processes for the ops scripts that run the binary as production does (ops/smoke, ops/contract):
# source it after setting PROGRAM (the name in messages) and BIN (the aurora-bridge binary).
# Gives DIR (a temporary directory, removed on exit with every process started), start, first_line,
# ready, stop_all and fail.
: "${PROGRAM:?set PROGRAM before sourcing ops/lib/processes.sh}" "${BIN:?set BIN before sourcing ops/lib/processes.sh}"

DIR=$(mktemp -d -t "aurora-bridge-$PROGRAM.XXXXXX")
declare -A PIDS=()
ORDER=()

fail() {
    echo "$PROGRAM: FAILED: $1" >&2
    for log in "$DIR"/*.err; do
        [ -s "$log" ] || continue
        echo "--- last lines of $(basename "$log") ---" >&2
        tail -n 15 "$log" >&2
    done
    exit 1
}

cleanup() {
    local name
    for name in "${ORDER[@]}"; do
        kill -KILL "${PIDS[$name]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

# start NAME ARGS...: runs `BIN ARGS...` in the background, output in $DIR/NAME.{out,err}.
start() {
    local name=$1; shift
    "$BIN" "$@" >"$DIR/$name.out" 2>"$DIR/$name.err" &
    PIDS[$name]=$!
    ORDER=("$name" "${ORDER[@]}")  # stopped in reverse order of starting
}

# first_line NAME PATTERN: waits (30 s at most) for a line of NAME's standard output matching PATTERN.
first_line() {
    local name=$1 pattern=$2 line
    for _ in $(seq 1 300); do
        line=$(grep -m1 -E "$pattern" "$DIR/$name.out" 2>/dev/null || true)
        [ -n "$line" ] && { echo "$line"; return 0; }
        kill -0 "${PIDS[$name]}" 2>/dev/null || fail "$name exited before it printed /$pattern/"
        sleep 0.1
    done
    fail "$name printed no line matching /$pattern/ within 30 s"
}

# ready URL WHAT: waits (60 s at most) for URL to answer 200.
ready() {
    for _ in $(seq 1 600); do
        curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    fail "$2 was not ready within 60 s ($1)"
}


# stop_all: SIGTERM to each process, last started first; each must exit 0.
stop_all() {
    local name status
    for name in "${ORDER[@]}"; do
        kill -TERM "${PIDS[$name]}"
        status=0
        wait "${PIDS[$name]}" || status=$?
        unset "PIDS[$name]"
        ORDER=("${ORDER[@]:1}")
        [ "$status" = 0 ] || fail "$name exited with $status after SIGTERM"
    done
}
