# The alarms moved into modules/alerts (shared with the single host; the
# topic and its subscription: moved-alerts.tf); this block moves their state
# there, so an apply after the upgrade replaces nothing. They keep their keys.
moved {
  from = aws_cloudwatch_metric_alarm.this
  to   = module.alerts.aws_cloudwatch_metric_alarm.this
}

# The hosts' two rules out to the internet became one resource over a map.
moved {
  from = aws_vpc_security_group_egress_rule.hosts_https
  to   = aws_vpc_security_group_egress_rule.hosts_to_internet["https"]
}

moved {
  from = aws_vpc_security_group_egress_rule.hosts_http
  to   = aws_vpc_security_group_egress_rule.hosts_to_internet["http"]
}
