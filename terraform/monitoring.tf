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

# From outside: Route 53 asks /healthz every 30 s from several regions.
resource "aws_route53_health_check" "web" {
  count             = var.enable_health_check ? 1 : 0
  ip_address        = local.public_ip
  port              = local.http_port
  type              = "HTTP"
  resource_path     = "/healthz"
  failure_threshold = 3
  request_interval  = 30

  tags = {
    Name = "${var.name}-healthz"
  }
}

# Route 53 publishes health check metrics in us-east-1 only.
resource "aws_sns_topic" "health_alerts" {
  count             = var.enable_health_check ? 1 : 0
  provider          = aws.us_east_1
  name              = "${var.name}-health-alerts"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "health_email" {
  count     = var.enable_health_check && var.alert_email != "" ? 1 : 0
  provider  = aws.us_east_1
  topic_arn = aws_sns_topic.health_alerts[0].arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_cloudwatch_metric_alarm" "health" {
  count               = var.enable_health_check ? 1 : 0
  provider            = aws.us_east_1
  alarm_name          = "${var.name}-healthz"
  alarm_description   = "http://${local.public_ip}/healthz is failing"
  namespace           = "AWS/Route53"
  metric_name         = "HealthCheckStatus"
  dimensions          = { HealthCheckId = aws_route53_health_check.web[0].id }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  alarm_actions       = [aws_sns_topic.health_alerts[0].arn]
  ok_actions          = [aws_sns_topic.health_alerts[0].arn]
}
