#!/usr/bin/env bash
# Deploys an image (`make deploy`, the pipeline's manual deploy job).
#
# To the single host (terraform/): runs scripts/rolling-update.sh there, over
# SSM Run Command or over SSH (it backs the database up before migrating).
# To the high-availability deployment (terraform/ha/): writes the image to
# its SSM parameter, takes an RDS snapshot, runs the migrate document once
# on one host, then an instance refresh of the Auto Scaling group.
# Rolling back either: docs/operations.md, "Rolling back an upgrade".
# Variables:
#   DEPLOY_IMAGE        image to deploy, e.g. $CI_REGISTRY_IMAGE:1.4.0-57 (required)
#   DEPLOY_INSTANCE_ID  single host: EC2 instance id, deploy through SSM (the
#                       AWS CLI and credentials allowed ssm:SendCommand on it), or
#   DEPLOY_SSH_HOST     single host: user@host, deploy through SSH (a key in
#                       the agent or DEPLOY_SSH_KEY, a private key in a file variable)
#   DEPLOY_APP_DIR      single host: the stack's directory (default /opt/visitors)
#   DEPLOY_ASG_NAME     high availability: the hosts' Auto Scaling group, with
#   DEPLOY_IMAGE_PARAMETER, DEPLOY_MIGRATE_DOCUMENT, DEPLOY_DB_INSTANCE
#                       (terraform output image_parameter, migrate_document,
#                       database_instance)
#   DEPLOY_KEEP_SNAPSHOTS high availability: pre-upgrade snapshots kept (5)
#   DEPLOY_REGION       AWS region for SSM (default: AWS_REGION, AWS_DEFAULT_REGION)
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DEPLOY_IMAGE:?DEPLOY_IMAGE, the image to deploy}"
app_dir=${DEPLOY_APP_DIR:-/opt/visitors}
update_script=$(base64 -w0 scripts/rolling-update.sh)
remote="echo $update_script | base64 -d > /tmp/rolling-update.sh && IMAGE='$DEPLOY_IMAGE' APP_DIR='$app_dir' bash /tmp/rolling-update.sh"

# ssm_run INSTANCE DOCUMENT PARAMETERS COMMENT: runs an SSM document on one
# instance, waits for it, prints its output; fails unless it succeeded.
ssm_run() {
    local instance=$1 document=$2 parameters=$3 comment=$4 command_id status
    command_id=$(aws ssm send-command --region "$region" --instance-ids "$instance" \
        --document-name "$document" --comment "$comment" \
        --parameters "$parameters" --query Command.CommandId --output text)
    echo "deploy: SSM command $command_id ($document) on $instance"
    # `wait` gives up after 100 s; a deploy can take longer.
    while true; do
        status=$(aws ssm get-command-invocation --region "$region" --command-id "$command_id" \
            --instance-id "$instance" --query Status --output text 2>/dev/null || echo Pending)
        case $status in
            Pending | InProgress | Delayed) sleep 5 ;;
            *) break ;;
        esac
    done
    aws ssm get-command-invocation --region "$region" --command-id "$command_id" \
        --instance-id "$instance" --query '[StandardOutputContent, StandardErrorContent]' --output text
    [[ $status == Success ]] || { echo "deploy: $status" >&2; return 1; }
}

if [[ -n ${DEPLOY_ASG_NAME:-} ]]; then
    region=${DEPLOY_REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:?DEPLOY_REGION}}}
    : "${DEPLOY_IMAGE_PARAMETER:?DEPLOY_IMAGE_PARAMETER (terraform output image_parameter)}"
    : "${DEPLOY_MIGRATE_DOCUMENT:?DEPLOY_MIGRATE_DOCUMENT (terraform output migrate_document)}"
    : "${DEPLOY_DB_INSTANCE:?DEPLOY_DB_INSTANCE (terraform output database_instance)}"
    # 1. The image new hosts start from.
    aws ssm put-parameter --region "$region" --name "$DEPLOY_IMAGE_PARAMETER" \
        --value "$DEPLOY_IMAGE" --type String --overwrite >/dev/null
    # 2. The database as it was before this version's migrations, as a
    # manual RDS snapshot (kept past the automated ones' retention); the
    # last DEPLOY_KEEP_SNAPSHOTS of them stay.
    tag=${DEPLOY_IMAGE##*/}
    snapshot="pre-upgrade-$(date -u +%Y%m%d%H%M%S)-${tag//[^A-Za-z0-9-]/-}"
    echo "deploy: RDS snapshot $snapshot of $DEPLOY_DB_INSTANCE"
    aws rds create-db-snapshot --region "$region" --db-instance-identifier "$DEPLOY_DB_INSTANCE" \
        --db-snapshot-identifier "$snapshot" >/dev/null
    aws rds wait db-snapshot-available --region "$region" --db-snapshot-identifier "$snapshot"
    # JMESPath literals in backticks, not shell expansions.
    # shellcheck disable=SC2016
    outdated=$(aws rds describe-db-snapshots --region "$region" --db-instance-identifier "$DEPLOY_DB_INSTANCE" \
        --snapshot-type manual \
        --query "reverse(sort_by(DBSnapshots[?starts_with(DBSnapshotIdentifier, \`pre-upgrade-\`)], &SnapshotCreateTime))[${DEPLOY_KEEP_SNAPSHOTS:-5}:].DBSnapshotIdentifier" \
        --output text)
    for old in $outdated; do
        aws rds delete-db-snapshot --region "$region" --db-snapshot-identifier "$old" >/dev/null
        echo "deploy: removed the older snapshot $old"
    done
    # 3. Migrations, once, on one in-service host, before any host runs the
    # new version.
    # A JMESPath literal in backticks, not a shell expansion.
    # shellcheck disable=SC2016
    instance=$(aws autoscaling describe-auto-scaling-groups --region "$region" \
        --auto-scaling-group-names "$DEPLOY_ASG_NAME" \
        --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId | [0]' --output text)
    if [[ -z $instance || $instance == None ]]; then
        echo "deploy: no in-service host in $DEPLOY_ASG_NAME to migrate from" >&2
        exit 1
    fi
    ssm_run "$instance" "$DEPLOY_MIGRATE_DOCUMENT" "$(jq -n --arg i "$DEPLOY_IMAGE" '{Image: [$i]}')" \
        "visitors migrate $DEPLOY_IMAGE"
    # 4. Rolling replacement: new hosts first, never below the healthy count.
    refresh_id=$(aws autoscaling start-instance-refresh --region "$region" \
        --auto-scaling-group-name "$DEPLOY_ASG_NAME" \
        --preferences '{"MinHealthyPercentage": 100, "MaxHealthyPercentage": 200, "InstanceWarmup": 120}' \
        --query InstanceRefreshId --output text)
    echo "deploy: instance refresh $refresh_id of $DEPLOY_ASG_NAME"
    while true; do
        status=$(aws autoscaling describe-instance-refreshes --region "$region" \
            --auto-scaling-group-name "$DEPLOY_ASG_NAME" --instance-refresh-ids "$refresh_id" \
            --query 'InstanceRefreshes[0].[Status, PercentageComplete]' --output text)
        echo "deploy: $status"
        case ${status%%[[:space:]]*} in
            Pending | InProgress | Cancelling | RollbackInProgress | Baking) sleep 15 ;;
            Successful) break ;;
            *) echo "deploy: instance refresh ended $status" >&2; exit 1 ;;
        esac
    done
elif [[ -n ${DEPLOY_INSTANCE_ID:-} ]]; then
    region=${DEPLOY_REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:?DEPLOY_REGION}}}
    ssm_run "$DEPLOY_INSTANCE_ID" AWS-RunShellScript \
        "$(jq -n --arg c "$remote" '{commands: [$c], executionTimeout: ["1800"]}')" "visitors deploy $DEPLOY_IMAGE"
elif [[ -n ${DEPLOY_SSH_HOST:-} ]]; then
    ssh_options=(-o BatchMode=yes -o StrictHostKeyChecking=accept-new)
    if [[ -n ${DEPLOY_SSH_KEY:-} ]]; then
        ssh_options+=(-i "$DEPLOY_SSH_KEY")
    fi
    # $remote is expanded here on purpose: it carries the script and values.
    # shellcheck disable=SC2029
    ssh "${ssh_options[@]}" "$DEPLOY_SSH_HOST" "sudo bash -c \"$remote\""
else
    echo "deploy: set DEPLOY_ASG_NAME (high availability), DEPLOY_INSTANCE_ID (SSM) or DEPLOY_SSH_HOST (SSH)" >&2
    exit 2
fi
echo "deploy: $DEPLOY_IMAGE is live"
