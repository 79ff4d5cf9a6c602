locals {
  alarms = {
    unhealthy-hosts = {
      namespace   = "AWS/ApplicationELB"
      metric      = "UnHealthyHostCount"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix, TargetGroup = aws_lb_target_group.app.arn_suffix }
      statistic   = "Maximum"
      threshold   = 1
      operator    = "GreaterThanOrEqualToThreshold"
      periods     = 5
      description = "A host fails /readyz at the load balancer"
    }
    http-5xx = {
      namespace   = "AWS/ApplicationELB"
      metric      = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = aws_lb.main.arn_suffix }
      statistic   = "Sum"
      threshold   = 50
      operator    = "GreaterThanOrEqualToThreshold"
      periods     = 3
      description = "The hosts answer 5xx (50 or more a minute)"
    }
    database-cpu = {
      namespace   = "AWS/RDS"
      metric      = "CPUUtilization"
      dimensions  = { DBInstanceIdentifier = aws_db_instance.main.identifier }
      statistic   = "Average"
      threshold   = 80
      operator    = "GreaterThanOrEqualToThreshold"
      periods     = 10
      description = "The database's CPU is above 80 % (docs/scaling.md: the next limit)"
    }
    database-storage = {
      namespace   = "AWS/RDS"
      metric      = "FreeStorageSpace"
      dimensions  = { DBInstanceIdentifier = aws_db_instance.main.identifier }
      statistic   = "Minimum"
      threshold   = 2 * 1024 * 1024 * 1024
      operator    = "LessThanThreshold"
      periods     = 5
      description = "Less than 2 GiB of database storage left"
    }
  }
}

# The topic and the alarms: modules/alerts, shared with the single host
# (moved.tf and moved-alerts.tf carry the state of the resources it
# replaced).
module "alerts" {
  source = "../modules/alerts"

  name        = var.name
  topic_name  = "${var.name}-alerts"
  alert_email = var.alert_email
  alarms      = { for key, alarm in local.alarms : key => merge(alarm, { treat_missing_data = "notBreaching" }) }
}

# From outside, through DNS, the ALB and TLS: the module shared with the
# single host.
module "health_check" {
  source = "../modules/health_check"
  count  = var.enable_health_check ? 1 : 0
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name          = var.name
  type          = "HTTPS"
  fqdn          = var.domain
  port          = 443
  resource_path = "/healthz"
  alert_email   = var.alert_email

  depends_on = [aws_route53_record.site]
}
