# Inputs both roots declare alike, with the same default and validation:
# terraform/variables-common.tf and terraform/ha/variables-common.tf are
# relative symlinks to this file. Each root's own variables.tf holds the rest,
# including those that share a name but not a default, a validation or a
# meaning (name, domain, instance_type, user_url, …).

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-central-1"
}

variable "user_name" {
  description = "Who runs the instance, shown in the dashboard's footer as \"Made by …\"; empty names nobody."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[^'\"\\\\$`\n]{0,100}$", var.user_name))
    error_message = "user_name must be at most 100 characters without quotes, backslashes, $ or backticks."
  }
}

variable "enable_health_check" {
  description = "Create a Route 53 health check on /healthz (at the domain over HTTPS when there is one) with a CloudWatch alarm."
  type        = bool
  default     = true
}

variable "alert_email" {
  description = "Email address subscribed to the alarms' SNS topic (confirm the subscription mail); empty for none."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address or empty."
  }
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
