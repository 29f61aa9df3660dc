# SPDX-License-Identifier: Apache-2.0
# rulesd.sh - starting and stopping rulesd for the suites that drive it
# (run-server, run-redact, run-fleet, run-deploy). Each suite sources it
# after lib.sh, sets RULESD and PIDS, and reports in its own words.
#
#   rd_launch DIR NAME ARGS...  starts "$RULESD" --port-file DIR/NAME.port
#                               ARGS (stderr to DIR/NAME.log), adds its pid
#                               to PIDS, sets PID_NAME, waits (at most 20 s,
#                               or until it exits) for the port file; sets
#                               PORT_NAME and returns 0, or returns 1
#   rd_term NAME                SIGTERM, waits at most 20 s, then SIGKILL;
#                               returns rulesd's exit status (RD_TERM_LATE=1
#                               when it had to be killed)

rd_launch() {
    rd_dir=$1; rd_name=$2; shift 2
    rm -f "$rd_dir/$rd_name.port"
    "$RULESD" --port-file "$rd_dir/$rd_name.port" "$@" 2>"$rd_dir/$rd_name.log" &
    rd_pid=$!
    PIDS="$PIDS $rd_pid"
    eval "PID_$rd_name=$rd_pid"
    rd_i=0
    while [ ! -s "$rd_dir/$rd_name.port" ] && [ $rd_i -lt 200 ]; do
        kill -0 "$rd_pid" 2>/dev/null || break
        sleep 0.1; rd_i=$((rd_i + 1))
    done
    [ -s "$rd_dir/$rd_name.port" ] || return 1
    eval "PORT_$rd_name=$(cat "$rd_dir/$rd_name.port")"
}

rd_term() {
    eval "rd_pid=\$PID_$1"
    RD_TERM_LATE=0
    kill -TERM "$rd_pid" 2>/dev/null
    rd_i=0
    while kill -0 "$rd_pid" 2>/dev/null && [ $rd_i -lt 200 ]; do sleep 0.1; rd_i=$((rd_i + 1)); done
    if kill -0 "$rd_pid" 2>/dev/null; then
        kill -9 "$rd_pid" 2>/dev/null
        RD_TERM_LATE=1
    fi
    wait "$rd_pid" 2>/dev/null
}
