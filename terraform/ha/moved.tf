# The alarms moved into modules/alerts (shared with the single host; the
# topic and its subscription: moved-alerts.tf); this block moves their state
# there, so an apply after the upgrade replaces nothing. They keep their keys.
moved {
  from = aws_cloudwatch_metric_alarm.this
  to   = module.alerts.aws_cloudwatch_metric_alarm.this
}
