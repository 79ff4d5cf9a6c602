# A Route 53 health check from outside (several AWS regions, every 30 s) with
# a CloudWatch alarm and an SNS topic (modules/alerts). Route 53 publishes
# health check metrics in us-east-1 only, so the alarm and its topic live
# there: the caller passes that provider as aws.us_east_1. Shared by both
# deployments.

terraform {
  required_providers {
    aws = {
      source                = "hashicorp/aws"
      configuration_aliases = [aws.us_east_1]
    }
  }
}

variable "name" {
  description = "Name prefix of the check, the alarm and the topic."
  type        = string
}

variable "type" {
  description = "HTTP or HTTPS."
  type        = string

  validation {
    condition     = contains(["HTTP", "HTTPS"], var.type)
    error_message = "type must be HTTP or HTTPS."
  }
}

variable "fqdn" {
  description = "Host name to check (and, for HTTPS, to send as SNI and Host); null checks ip_address."
  type        = string
  default     = null
}

variable "ip_address" {
  description = "Address to connect to; null resolves fqdn."
  type        = string
  default     = null
}

variable "port" {
  description = "TCP port."
  type        = number
}

variable "resource_path" {
  description = "Path to ask for."
  type        = string
  default     = "/healthz"
}

variable "alert_email" {
  description = "Email subscribed to the topic; empty for none."
  type        = string
  default     = ""
}

locals {
  url = "${lower(var.type)}://${coalesce(var.fqdn, var.ip_address)}${contains([80, 443], var.port) ? "" : ":${var.port}"}${var.resource_path}"
}

resource "aws_route53_health_check" "this" {
  fqdn              = var.fqdn
  ip_address        = var.ip_address
  port              = var.port
  type              = var.type
  resource_path     = var.resource_path
  failure_threshold = 3
  request_interval  = 30

  tags = {
    Name = "${var.name}-healthz"
  }
}

# The topic and the alarm: modules/alerts, in us-east-1. The blocks below
# move the state of the resources this module held before.
module "alerts" {
  source = "../alerts"
  providers = {
    aws = aws.us_east_1
  }

  name        = var.name
  topic_name  = "${var.name}-health-alerts"
  alert_email = var.alert_email
  alarms = {
    healthz = {
      description = "${local.url} is failing"
      namespace   = "AWS/Route53"
      metric      = "HealthCheckStatus"
      dimensions  = { HealthCheckId = aws_route53_health_check.this.id }
      statistic   = "Minimum"
      threshold   = 1
      operator    = "LessThanThreshold"
      periods     = 2
    }
  }
}

moved {
  from = aws_sns_topic.this
  to   = module.alerts.aws_sns_topic.this
}

moved {
  from = aws_sns_topic_subscription.email
  to   = module.alerts.aws_sns_topic_subscription.email
}

moved {
  from = aws_cloudwatch_metric_alarm.this
  to   = module.alerts.aws_cloudwatch_metric_alarm.this["healthz"]
}

output "id" {
  description = "The health check's id."
  value       = aws_route53_health_check.this.id
}

output "url" {
  description = "What it asks for."
  value       = local.url
}
