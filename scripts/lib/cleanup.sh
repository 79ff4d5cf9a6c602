# shellcheck shell=bash
# on_exit COMMAND: runs COMMAND when the script exits, however it exits;
# commands run in reverse order of registration, each even if one fails,
# and a command registered twice runs once.
EXIT_ACTIONS=()

on_exit() {
    local action
    for action in "${EXIT_ACTIONS[@]}"; do
        [[ $action == "$1" ]] && return 0
    done
    EXIT_ACTIONS+=("$1")
    trap run_exit_actions EXIT
}

run_exit_actions() {
    local i
    for ((i = ${#EXIT_ACTIONS[@]} - 1; i >= 0; i--)); do
        eval "${EXIT_ACTIONS[i]}" || true
    done
}
