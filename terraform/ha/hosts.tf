# The hosts: an Auto Scaling group over the private subnets, each host
# running one app container from the pipeline's image (no database, no
# nginx: the ALB balances and retries, WAF rate-limits). IMDSv2 only,
# encrypted volumes, no public address, no SSH (SSM Session Manager).

# The image to run. Terraform sets the first one; deploys (scripts/deploy.sh)
# write the next, migrate, then refresh the hosts, which read it at boot.
resource "aws_ssm_parameter" "app_image" {
  #checkov:skip=CKV2_AWS_34:An image reference is no secret; a plain String parameter is readable by the deploy job without KMS.
  name        = "/${var.name}/app-image"
  description = "The visitors image the hosts run (written by deploys)"
  type        = "String"
  value       = var.app_image

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_cloudwatch_log_group" "app" {
  #checkov:skip=CKV_AWS_158:Encrypted by CloudWatch Logs with its own key; the logs hold no client address or visitor key (see LOG_FORMAT in README.md).
  #checkov:skip=CKV_AWS_338:Request logs are kept log_retention_days (30 by default), not a year: nothing needs them longer.
  name              = "/${var.name}/app"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "host" {
  statement {
    sid       = "Image"
    actions   = ["ssm:GetParameter"]
    resources = [aws_ssm_parameter.app_image.arn]
  }

  statement {
    sid       = "Secrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = compact([aws_secretsmanager_secret.database.arn, aws_secretsmanager_secret.visitor_secret.arn, var.registry_secret_arn])
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.app.arn}:*"]
  }
}

# Shared with the single host: the role, SSM Session Manager, the profile.
module "host_role" {
  source = "../modules/host_role"

  name_prefix = "${var.name}-host-"
  policy_name = "visitors-host"
  policy_json = data.aws_iam_policy_document.host.json
}

resource "aws_launch_template" "host" {
  name_prefix            = "${var.name}-host-"
  image_id               = module.ubuntu_ami.id
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.hosts.id]
  update_default_version = true
  ebs_optimized          = true

  iam_instance_profile {
    arn = module.host_role.instance_profile_arn
  }

  # IMDSv2 only; one hop, so the container cannot reach the host's role.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/sda1"

    ebs {
      volume_type           = "gp3"
      volume_size           = var.root_volume_size
      encrypted             = true
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = false
  }

  user_data = base64encode(templatefile("${path.module}/templates/host.sh.tftpl", {
    region              = var.region
    name                = var.name
    app_port            = local.app_port
    image_parameter     = aws_ssm_parameter.app_image.name
    database_secret_arn = aws_secretsmanager_secret.database.arn
    visitor_secret_arn  = aws_secretsmanager_secret.visitor_secret.arn
    database_host       = aws_db_instance.main.address
    database_name       = local.database_name
    database_user       = local.database_user
    pool_size           = var.pool_size
    registry_secret_arn = var.registry_secret_arn == null ? "" : var.registry_secret_arn
    log_group           = aws_cloudwatch_log_group.app.name
    user_name           = var.user_name
    user_url            = var.user_url
    public_url          = "https://${var.domain}"
  }))

  tag_specifications {
    resource_type = "instance"

    tags = merge(local.tags, { Name = "${var.name}-host" })
  }

  tag_specifications {
    resource_type = "volume"

    tags = merge(local.tags, { Name = "${var.name}-host" })
  }
}

resource "aws_autoscaling_group" "hosts" {
  name_prefix         = "${var.name}-"
  vpc_zone_identifier = aws_subnet.private[*].id
  target_group_arns   = [aws_lb_target_group.app.arn]
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.min_size

  # A host whose /readyz fails at the ALB is replaced, after a start-up
  # grace (Docker, the image pull).
  health_check_type         = "ELB"
  health_check_grace_period = 600
  default_instance_warmup   = 120

  launch_template {
    id      = aws_launch_template.host.id
    version = aws_launch_template.host.latest_version
  }

  # Rolling deploys: a new launch template version (here) or a deploy's
  # start-instance-refresh replaces the hosts, new ones first (up to 200 %),
  # never dropping below the healthy count (100 %).
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 100
      max_healthy_percentage = 200
      instance_warmup        = 120
    }
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-host"
    propagate_at_launch = true
  }

  lifecycle {
    # The scaling policy moves it.
    ignore_changes = [desired_capacity]
  }

  depends_on = [module.host_role]
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "${var.name}-cpu"
  autoscaling_group_name = aws_autoscaling_group.hosts.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
    target_value = var.cpu_target
  }
}
