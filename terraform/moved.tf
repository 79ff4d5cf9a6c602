# The role and the health check moved into modules shared with ha/; these
# blocks move existing state there, so an apply after the upgrade replaces
# nothing.
moved {
  from = aws_iam_role.web
  to   = module.host_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy_attachment.ssm_core
  to   = module.host_role.aws_iam_role_policy_attachment.ssm_core
}

moved {
  from = aws_iam_role_policy.read_secrets
  to   = module.host_role.aws_iam_role_policy.this
}

moved {
  from = aws_iam_instance_profile.web
  to   = module.host_role.aws_iam_instance_profile.this
}

moved {
  from = aws_route53_health_check.web[0]
  to   = module.health_check[0].aws_route53_health_check.this
}

# The health check's topic, subscription and alarm moved on from there into
# modules/alerts: modules/health_check's own moved blocks continue these.
moved {
  from = aws_sns_topic.health_alerts[0]
  to   = module.health_check[0].aws_sns_topic.this
}

moved {
  from = aws_sns_topic_subscription.health_email[0]
  to   = module.health_check[0].aws_sns_topic_subscription.email[0]
}

moved {
  from = aws_cloudwatch_metric_alarm.health[0]
  to   = module.health_check[0].aws_cloudwatch_metric_alarm.this
}

# The status check alarms moved into modules/alerts (shared with ha/; the
# topic and its subscription: moved-alerts.tf); their keys now hold their
# whole name suffix, so the alarms keep their names.
moved {
  from = aws_cloudwatch_metric_alarm.status_check["system"]
  to   = module.alerts.aws_cloudwatch_metric_alarm.this["system-check"]
}

moved {
  from = aws_cloudwatch_metric_alarm.status_check["instance"]
  to   = module.alerts.aws_cloudwatch_metric_alarm.this["instance-check"]
}
