# The per-client rate limit. nginx does it on the single host; here the ALB
# has none, and nginx on each host would count per host (the ALB spreads a
# client over all of them) behind an extra hop. AWS WAF counts per client
# address across the whole site, before a request reaches any host: past
# rate_limit_per_minute in a minute the client gets 429, as from nginx.
resource "aws_wafv2_web_acl" "main" {
  #checkov:skip=CKV2_AWS_31:WAF logging would keep each request's client address and URL, which this deployment promises not to keep; its CloudWatch metrics count what it blocks (no sampled requests either, for the same reason).
  name  = "${var.name}-alb"
  scope = "REGIONAL"

  default_action {
    allow {}
  }

  custom_response_body {
    key          = "too_many_requests"
    content      = "Too many requests\n"
    content_type = "TEXT_PLAIN"
  }

  rule {
    name     = "rate-per-client"
    priority = 1

    action {
      block {
        custom_response {
          response_code            = 429
          custom_response_body_key = "too_many_requests"
        }
      }
    }

    statement {
      rate_based_statement {
        limit                 = var.rate_limit_per_minute
        evaluation_window_sec = 60
        # The connecting address, which the ALB sees; not X-Forwarded-For,
        # which the client writes.
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-rate-per-client"
      sampled_requests_enabled   = false
    }
  }

  # AWS's managed rules against known exploit payloads (Log4j among them).
  rule {
    name     = "known-bad-inputs"
    priority = 2

    override_action {
      none {}
    }

    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-known-bad-inputs"
      sampled_requests_enabled   = false
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-alb"
    sampled_requests_enabled   = false
  }
}

resource "aws_wafv2_web_acl_association" "alb" {
  resource_arn = aws_lb.main.arn
  web_acl_arn  = aws_wafv2_web_acl.main.arn
}
