# Shared by both roots (moved-alerts.tf in each is a relative symlink to this
# file, as versions.tf is): each root had its own alerts topic and email
# subscription, at the same addresses, before modules/alerts took them. These
# blocks move that state into the module, so an apply after the upgrade
# replaces nothing. The alarms moved too: each root's moved.tf.
moved {
  from = aws_sns_topic.alerts
  to   = module.alerts.aws_sns_topic.this
}

moved {
  from = aws_sns_topic_subscription.email
  to   = module.alerts.aws_sns_topic_subscription.email
}
