# An SNS topic (encrypted with the AWS-managed key), an optional email
# subscription and a set of CloudWatch alarms that notify it, on alarm and
# on recovery. Shared by both deployments' monitoring.tf and by
# modules/health_check (there with the us-east-1 provider).

variable "name" {
  description = "Name prefix of the alarms: each is named <name>-<its key in alarms>."
  type        = string
}

variable "topic_name" {
  description = "Name of the SNS topic."
  type        = string
}

variable "alert_email" {
  description = "Email subscribed to the topic; empty for none."
  type        = string
  default     = ""
}

variable "alarms" {
  description = "The alarms, by name suffix. Every one looks at a 60 s period; actions run before the topic's notification (e.g. EC2 recover); treat_missing_data null keeps CloudWatch's default (missing)."
  type = map(object({
    description        = string
    namespace          = string
    metric             = string
    dimensions         = map(string)
    statistic          = string
    threshold          = number
    operator           = string
    periods            = number
    actions            = optional(list(string), [])
    treat_missing_data = optional(string)
  }))
}

resource "aws_sns_topic" "this" {
  name              = var.topic_name
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alert_email != "" ? 1 : 0
  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 60
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.operator
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = concat(each.value.actions, [aws_sns_topic.this.arn])
  ok_actions          = [aws_sns_topic.this.arn]
}

output "topic_arn" {
  description = "The topic the alarms notify."
  value       = aws_sns_topic.this.arn
}
