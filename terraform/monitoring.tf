resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alert_email != "" ? 1 : 0
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

# The host's own checks: a failed system check (AWS hardware) recovers the
# instance onto new hardware, keeping its id, addresses and volumes; a failed
# instance check (the OS) reboots it. Both notify.
locals {
  status_checks = {
    system = {
      metric      = "StatusCheckFailed_System"
      action      = "recover"
      periods     = 2
      description = "EC2 system status check failed: recovering the instance"
    }
    instance = {
      metric      = "StatusCheckFailed_Instance"
      action      = "reboot"
      periods     = 3
      description = "EC2 instance status check failed: rebooting the instance"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "status_check" {
  for_each = local.status_checks

  alarm_name          = "${var.name}-${each.key}-check"
  alarm_description   = each.value.description
  namespace           = "AWS/EC2"
  metric_name         = each.value.metric
  dimensions          = { InstanceId = aws_instance.web.id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = each.value.periods
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  alarm_actions       = ["arn:aws:automate:${var.region}:ec2:${each.value.action}", aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# From outside: Route 53 asks /healthz every 30 s from several regions, over
# HTTPS at the domain when there is one (connecting to the host's address, so
# the check does not depend on DNS), else over HTTP at the address.
module "health_check" {
  source = "./modules/health_check"
  count  = var.enable_health_check ? 1 : 0
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name          = var.name
  type          = local.tls ? "HTTPS" : "HTTP"
  fqdn          = var.domain
  ip_address    = local.public_ip
  port          = local.tls ? 443 : local.http_port
  resource_path = "/healthz"
  alert_email   = var.alert_email
}
