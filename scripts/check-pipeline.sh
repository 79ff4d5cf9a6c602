#!/usr/bin/env bash
# Checks .gitlab-ci.yml on this machine (part of `make test`): GitLab's CI
# schema (check-jsonschema), gitlab-ci-local's reading of its structure
# (stages, needs, rules), and that every script a job calls is in the
# repository. The jobs' commands are the make targets the test command runs
# itself, so they are not run a second time here. Inside GitLab the pipeline
# is its own check, so this is skipped there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/tools.sh

GITLAB_CI_LOCAL_VERSION=4.73.0 # later versions crash on Node 20
if [[ ${GITLAB_CI:-} == true ]]; then
    echo "--- pipeline checks skipped inside GitLab CI"
    exit 0
fi

ensure_venv "$LINT_VENV" requirements-lint.txt
echo "--- .gitlab-ci.yml against GitLab's CI schema"
"$LINT_VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci .gitlab-ci.yml

ensure_apt_tools node:nodejs npm:npm
gitlab_ci_local=target/gitlab-ci-local/node_modules/.bin/gitlab-ci-local
if [[ $("$gitlab_ci_local" --version 2>/dev/null) != "$GITLAB_CI_LOCAL_VERSION" ]]; then
    echo "--- installing gitlab-ci-local $GITLAB_CI_LOCAL_VERSION"
    npm install --silent --no-audit --no-fund --prefix target/gitlab-ci-local "gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION"
fi
echo "--- gitlab-ci-local --list"
"$gitlab_ci_local" --list

# Every script the pipeline calls exists and is in the repository.
grep -ohE 'scripts/[A-Za-z0-9_./-]+\.sh' .gitlab-ci.yml Makefile | sort -u | while read -r script; do
    git ls-files --error-unmatch "$script" >/dev/null
done
echo "ok -- every script the pipeline and the Makefile call is in the repository"
