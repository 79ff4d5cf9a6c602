variable "name" {
  description = "Name prefix of every resource (letters, digits and dashes)."
  type        = string
  default     = "visitors"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 lowercase letters, digits or dashes, starting with a letter (load balancer names are short)."
  }
}

variable "domain" {
  description = "Host name of the site, e.g. visitors.example.org, in the zone_id zone: the ACM certificate and the alias record."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase host name such as visitors.example.org."
  }
}

variable "zone_id" {
  description = "Route 53 hosted zone holding domain: DNS validation of the certificate and the alias record."
  type        = string

  validation {
    condition     = can(regex("^Z[A-Z0-9]{1,31}$", var.zone_id))
    error_message = "zone_id must be a Route 53 hosted zone id (Z…)."
  }
}

variable "app_image" {
  description = "The app image the pipeline published (e.g. registry.gitlab.com/group/visitors:1.4.0-57): the first one; later deploys change it in SSM (scripts/deploy.sh)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/:@-]+$", var.app_image))
    error_message = "app_image must be an image reference."
  }
}

variable "registry_secret_arn" {
  description = "Secrets Manager secret holding user:token for a private registry (docker login on the hosts); null for a public image."
  type        = string
  default     = null
}

variable "vpc_cidr" {
  description = "Address range of the VPC; each zone gets a public and a private /20 of it."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 18
    error_message = "vpc_cidr must be a CIDR block of /18 or larger."
  }
}

variable "az_count" {
  description = "Availability zones to spread over (2 or 3)."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per zone: cheaper, but a zone's outage then stops image pulls for new hosts in the others."
  type        = bool
  default     = false
}

variable "instance_type" {
  description = "EC2 instance type of the hosts (x86_64: the pipeline builds amd64 images)."
  type        = string
  default     = "t3.small"
}

variable "min_size" {
  description = "Fewest hosts (at least 2, spread over the zones)."
  type        = number
  default     = 2

  validation {
    condition     = var.min_size >= 2
    error_message = "min_size must be 2 or more: one per zone at least."
  }
}

variable "max_size" {
  description = "Most hosts the CPU scaling may reach; also sizes the database's max_connections."
  type        = number
  default     = 6

  validation {
    condition     = var.max_size >= 2 && var.max_size <= 50
    error_message = "max_size must be between 2 and 50."
  }
}

variable "cpu_target" {
  description = "Average CPU % of the hosts that target tracking keeps."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target >= 20 && var.cpu_target <= 90
    error_message = "cpu_target must be between 20 and 90."
  }
}

variable "root_volume_size" {
  description = "Root volume of each host in GiB (OS, the image), encrypted gp3."
  type        = number
  default     = 20
}

variable "pool_size" {
  description = "Database connections per host (the app's pool, ROCKET_DATABASES)."
  type        = number
  default     = 16

  validation {
    condition     = var.pool_size >= 2 && var.pool_size <= 64
    error_message = "pool_size must be between 2 and 64."
  }
}

variable "db_instance_class" {
  description = "RDS instance class (see docs/scaling.md)."
  type        = string
  default     = "db.t4g.small"
}

variable "db_allocated_storage" {
  description = "Initial database storage in GiB (gp3)."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20
    error_message = "db_allocated_storage must be 20 GiB or more."
  }
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
  default     = 100
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery), 7 to 35."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "deletion_protection" {
  description = "Deletion protection on the database and the load balancer. Set false and apply before terraform destroy."
  type        = bool
  default     = true
}

variable "rate_limit_per_minute" {
  description = "Requests per minute one client address may send (AWS WAF rate rule; 600 = nginx's 10 r/s); 429 beyond."
  type        = number
  default     = 600

  validation {
    condition     = var.rate_limit_per_minute >= 10
    error_message = "rate_limit_per_minute must be 10 or more (WAF's minimum)."
  }
}

variable "user_url" {
  description = "Link of that name: an http(s) URL, or # for none."
  type        = string
  default     = "#"

  validation {
    condition     = var.user_url == "#" || can(regex("^https?://[^'\"\\\\$`\\s]+$", var.user_url))
    error_message = "user_url must be an http:// or https:// URL, or #."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the app's logs."
  type        = number
  default     = 30
}

variable "access_logs" {
  description = "Keep the load balancer's access logs in S3. Off by default: each line holds the client's address and the full request URL (a private site's share token included), which the app itself never keeps."
  type        = bool
  default     = false
}

variable "access_log_days" {
  description = "Days the S3 bucket keeps the load balancer's access logs (with access_logs)."
  type        = number
  default     = 90
}
