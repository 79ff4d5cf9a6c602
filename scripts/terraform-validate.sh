#!/bin/sh
# terraform fmt -check and validate, with the real providers, for both
# deployments (the pipeline's lint:terraform job, in the official terraform
# image; it needs the provider registry, which the offline checks of
# lint-ops.sh cannot reach). POSIX sh: the terraform image has no bash.
set -eu
cd "$(dirname "$0")/../terraform"
terraform fmt -check -recursive -diff
for root in . ha; do
    echo "--- terraform validate: terraform/$root"
    terraform -chdir="$root" init -backend=false -input=false
    terraform -chdir="$root" validate
done
