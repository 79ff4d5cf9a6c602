#!/bin/sh
# terraform fmt -check and validate, with the real providers (the pipeline's
# lint:terraform job, in the official terraform image; it needs the provider
# registry, which the offline checks of lint-ops.sh cannot reach).
# POSIX sh: the terraform image has no bash.
set -eu
cd "$(dirname "$0")/../terraform"
terraform fmt -check -recursive -diff
terraform init -backend=false -input=false
terraform validate
