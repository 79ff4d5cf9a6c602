variable "name" {
  description = "Name prefix of every resource (letters, digits and dashes)."
  type        = string
  default     = "visitors"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "instance_type" {
  description = "EC2 instance type. t3.small (2 vCPU, 2 GiB) runs the stack; building the image on the host needs t3.medium or a prebuilt app_image."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*[0-9][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like an EC2 instance type, e.g. t3.small."
  }
}

variable "subnet_id" {
  description = "Subnet for the instance; null uses the first subnet of the default VPC."
  type        = string
  default     = null

  validation {
    condition     = var.subnet_id == null || can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must be a subnet id (subnet-…) or null."
  }
}

variable "allowed_ssh_cidrs" {
  description = "CIDR blocks allowed to SSH in. Empty (the default): no SSH rule at all; use SSM Session Manager."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.allowed_ssh_cidrs : can(cidrhost(cidr, 0))])
    error_message = "Every entry of allowed_ssh_cidrs must be a CIDR block such as 203.0.113.0/24."
  }

  validation {
    condition     = alltrue([for cidr in var.allowed_ssh_cidrs : !contains(["0.0.0.0/0", "::/0"], cidr)])
    error_message = "allowed_ssh_cidrs must not open SSH to the whole internet (0.0.0.0/0 or ::/0); use SSM Session Manager."
  }
}

variable "ssh_key_name" {
  description = "Name of an EC2 key pair for SSH; null for none (SSM needs no key)."
  type        = string
  default     = null
}

variable "domain" {
  description = "Host name of the site, e.g. visitors.example.org: HTTPS with a Let's Encrypt certificate (certbot on the host, HTTP-01). Null: plain HTTP on the address."
  type        = string
  default     = null

  validation {
    condition     = var.domain == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase host name such as visitors.example.org, or null."
  }
}

variable "zone_id" {
  description = "Route 53 hosted zone of domain: Terraform creates its A record. Null: point the domain at public_ip yourself."
  type        = string
  default     = null

  validation {
    condition     = var.zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.zone_id))
    error_message = "zone_id must be a Route 53 hosted zone id (Z…) or null."
  }
}

variable "acme_email" {
  description = "Email given to Let's Encrypt with the account (its notices); empty registers without one."
  type        = string
  default     = ""

  validation {
    condition     = var.acme_email == "" || can(regex("^[^@\\s'\"]+@[^@\\s'\"]+\\.[^@\\s'\"]+$", var.acme_email))
    error_message = "acme_email must be an email address or empty."
  }
}

variable "acme_staging" {
  description = "Use Let's Encrypt's staging service (certificates browsers do not trust, generous rate limits): for trying the setup."
  type        = bool
  default     = false
}

variable "enable_https" {
  description = "Open port 443 also without domain (for a TLS terminator of your own on the host). With domain it is open anyway."
  type        = bool
  default     = false
}

variable "enable_elastic_ip" {
  description = "Give the instance an Elastic IP, so the URL survives replacing the instance."
  type        = bool
  default     = true
}

variable "detailed_monitoring" {
  description = "1-minute CloudWatch metrics for the instance (extra cost)."
  type        = bool
  default     = false
}

variable "root_volume_size" {
  description = "Root volume size in GiB (OS, Docker images)."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size >= 10 && var.root_volume_size <= 1024
    error_message = "root_volume_size must be between 10 and 1024 GiB."
  }
}

variable "data_volume_size" {
  description = "Size in GiB of the EBS volume that holds PostgreSQL's data."
  type        = number
  default     = 10

  validation {
    condition     = var.data_volume_size >= 1 && var.data_volume_size <= 16384
    error_message = "data_volume_size must be between 1 and 16384 GiB."
  }
}

variable "data_snapshot_id" {
  description = "Create the data volume from this EBS snapshot (a restore); null for an empty volume."
  type        = string
  default     = null

  validation {
    condition     = var.data_snapshot_id == null || can(regex("^snap-[0-9a-f]{8,17}$", var.data_snapshot_id))
    error_message = "data_snapshot_id must be a snapshot id (snap-…) or null."
  }
}

variable "visitor_secret" {
  description = "The key of the visitor hash, 64 hex digits: empty for a generated one; an earlier deployment's key (the file visitor-secret on its data volume) keeps its visitors recognised."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = can(regex("^([0-9a-f]{64})?$", var.visitor_secret))
    error_message = "visitor_secret must be empty or 64 lower-case hex digits."
  }
}

variable "final_snapshot" {
  description = "Snapshot the data volume when it is destroyed, so that `terraform destroy` keeps the visitor history."
  type        = bool
  default     = true
}

variable "repo_url" {
  description = "Git repository (https) the host clones for docker-compose.yml and nginx/, and, without app_image, the sources to build."
  type        = string

  validation {
    condition     = can(regex("^https://", var.repo_url))
    error_message = "repo_url must be an https:// URL."
  }
}

variable "git_ref" {
  description = "Branch, tag or commit of repo_url to deploy."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.git_ref))
    error_message = "git_ref may contain letters, digits, '.', '_', '/' and '-' only."
  }
}

variable "app_image" {
  description = "Prebuilt app image (e.g. registry.gitlab.com/visitors/visitors:1.4.0-57); empty builds it on the host."
  type        = string
  default     = ""

  validation {
    condition     = var.app_image == "" || can(regex("^[a-z0-9][a-z0-9._/:@-]+$", var.app_image))
    error_message = "app_image must be an image reference or empty."
  }
}

variable "app_replicas" {
  description = "Number of app replicas behind nginx on the host."
  type        = number
  default     = 2

  validation {
    condition     = var.app_replicas >= 1 && var.app_replicas <= 16 && floor(var.app_replicas) == var.app_replicas
    error_message = "app_replicas must be a whole number from 1 to 16."
  }
}

variable "user_url" {
  description = "Link of that name: an http(s) URL, or # for none."
  type        = string
  default     = "#"

  validation {
    condition     = var.user_url == "#" || can(regex("^https?://", var.user_url))
    error_message = "user_url must be an http:// or https:// URL, or #."
  }
}
