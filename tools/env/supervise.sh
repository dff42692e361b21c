# Sourced by the launch scripts (dist_*.sh): `supervise CMD [ARGS...]` runs
# CMD (torchrun) in the background and waits for it, so that a SIGTERM,
# SIGINT or SIGHUP to the script reaches it: torchrun then stops every
# worker, and the script exits non-zero (CMD's status, else 128 + signal).
# Workers also stop when torchrun itself is killed (tools/launch_utils.py,
# stop_with_launcher).
supervise() {
    local child status=0 signalled=''
    "$@" &
    child=$!
    trap 'signalled=143; kill -TERM "$child" 2>/dev/null' TERM
    trap 'signalled=130; kill -TERM "$child" 2>/dev/null' INT
    trap 'signalled=129; kill -TERM "$child" 2>/dev/null' HUP
    wait "$child" || status=$?
    while kill -0 "$child" 2>/dev/null; do  # woken by a signal: wait on
        status=0
        wait "$child" || status=$?
    done
    trap - TERM INT HUP
    if [ -n "$signalled" ] && [ "$status" -eq 0 ]; then
        status=$signalled
    fi
    return "$status"
}
