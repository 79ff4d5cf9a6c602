# The host's own checks: a failed system check (AWS hardware) recovers the
# instance onto new hardware, keeping its id, addresses and volumes; a failed
# instance check (the OS) reboots it. Both notify the topic of modules/alerts
# (shared with ha/; moved.tf and moved-alerts.tf carry the state of the
# resources it replaced).
module "alerts" {
  source = "./modules/alerts"

  name        = var.name
  topic_name  = "${var.name}-alerts"
  alert_email = var.alert_email
  alarms = {
    for check, spec in {
      system   = { action = "recover", periods = 2, description = "EC2 system status check failed: recovering the instance" }
      instance = { action = "reboot", periods = 3, description = "EC2 instance status check failed: rebooting the instance" }
    } :
    "${check}-check" => {
      description = spec.description
      namespace   = "AWS/EC2"
      metric      = "StatusCheckFailed_${title(check)}"
      dimensions  = { InstanceId = aws_instance.web.id }
      statistic   = "Maximum"
      threshold   = 1
      operator    = "GreaterThanOrEqualToThreshold"
      periods     = spec.periods
      actions     = ["arn:aws:automate:${var.region}:ec2:${spec.action}"]
    }
  }
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
