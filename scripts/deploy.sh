#!/usr/bin/env bash
# Deploys an image to the compose stack on the Terraform host (`make deploy`,
# the pipeline's manual deploy job): runs scripts/rolling-update.sh there,
# over SSM Run Command or over SSH. Variables:
#   DEPLOY_IMAGE        image to deploy, e.g. $CI_REGISTRY_IMAGE:1.4.0-57 (required)
#   DEPLOY_INSTANCE_ID  EC2 instance id: deploy through SSM (the AWS CLI and
#                       credentials allowed ssm:SendCommand on it), or
#   DEPLOY_SSH_HOST     user@host: deploy through SSH (a key in the agent or
#                       DEPLOY_SSH_KEY, a private key in a file variable)
#   DEPLOY_REGION       AWS region for SSM (default: AWS_REGION, AWS_DEFAULT_REGION)
#   DEPLOY_APP_DIR      the stack's directory on the host (default /opt/visitors)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DEPLOY_IMAGE:?DEPLOY_IMAGE, the image to deploy}"
app_dir=${DEPLOY_APP_DIR:-/opt/visitors}
update_script=$(base64 -w0 scripts/rolling-update.sh)
remote="echo $update_script | base64 -d > /tmp/rolling-update.sh && IMAGE='$DEPLOY_IMAGE' APP_DIR='$app_dir' bash /tmp/rolling-update.sh"

if [[ -n ${DEPLOY_INSTANCE_ID:-} ]]; then
    region=${DEPLOY_REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:?DEPLOY_REGION}}}
    command_id=$(aws ssm send-command --region "$region" --instance-ids "$DEPLOY_INSTANCE_ID" \
        --document-name AWS-RunShellScript --comment "visitors deploy $DEPLOY_IMAGE" \
        --parameters "$(jq -n --arg c "$remote" '{commands: [$c], executionTimeout: ["1800"]}')" \
        --query Command.CommandId --output text)
    echo "deploy: SSM command $command_id on $DEPLOY_INSTANCE_ID"
    # `wait` gives up after 100 s; a deploy can take longer.
    while true; do
        status=$(aws ssm get-command-invocation --region "$region" --command-id "$command_id" \
            --instance-id "$DEPLOY_INSTANCE_ID" --query Status --output text 2>/dev/null || echo Pending)
        case $status in
            Pending | InProgress | Delayed) sleep 5 ;;
            *) break ;;
        esac
    done
    aws ssm get-command-invocation --region "$region" --command-id "$command_id" \
        --instance-id "$DEPLOY_INSTANCE_ID" --query '[StandardOutputContent, StandardErrorContent]' --output text
    [[ $status == Success ]] || { echo "deploy: $status" >&2; exit 1; }
elif [[ -n ${DEPLOY_SSH_HOST:-} ]]; then
    ssh_options=(-o BatchMode=yes -o StrictHostKeyChecking=accept-new)
    if [[ -n ${DEPLOY_SSH_KEY:-} ]]; then
        ssh_options+=(-i "$DEPLOY_SSH_KEY")
    fi
    # $remote is expanded here on purpose: it carries the script and values.
    # shellcheck disable=SC2029
    ssh "${ssh_options[@]}" "$DEPLOY_SSH_HOST" "sudo bash -c \"$remote\""
else
    echo "deploy: set DEPLOY_INSTANCE_ID (SSM) or DEPLOY_SSH_HOST (SSH)" >&2
    exit 2
fi
echo "deploy: $DEPLOY_IMAGE is live"
