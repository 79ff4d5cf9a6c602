# The alerts topic and the alarms moved into modules/alerts (shared with the
# single host); these blocks move existing state there, so an apply after the
# upgrade replaces nothing. The alarms keep their keys.
moved {
  from = aws_sns_topic.alerts
  to   = module.alerts.aws_sns_topic.this
}

moved {
  from = aws_sns_topic_subscription.email
  to   = module.alerts.aws_sns_topic_subscription.email
}

moved {
  from = aws_cloudwatch_metric_alarm.this
  to   = module.alerts.aws_cloudwatch_metric_alarm.this
}
