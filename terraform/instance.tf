resource "aws_instance" "web" {
  #checkov:skip=CKV_AWS_88:A public web host needs a public address (an Elastic IP by default).
  #checkov:skip=CKV_AWS_126:Detailed monitoring costs extra; it is the detailed_monitoring variable.
  ami                         = module.ubuntu_ami.id
  instance_type               = var.instance_type
  subnet_id                   = data.aws_subnet.selected.id
  vpc_security_group_ids      = [aws_security_group.web.id]
  iam_instance_profile        = module.host_role.instance_profile_name
  key_name                    = var.ssh_key_name
  associate_public_ip_address = true
  monitoring                  = var.detailed_monitoring
  ebs_optimized               = true

  user_data = templatefile("${path.module}/templates/user-data.sh.tftpl", {
    region                      = var.region
    repo_url                    = var.repo_url
    git_ref                     = var.git_ref
    app_image                   = var.app_image
    app_replicas                = var.app_replicas
    user_name                   = var.user_name
    user_url                    = var.user_url
    public_url                  = local.public_url
    app_dir                     = local.app_dir
    data_mount                  = local.data_mount
    data_dir                    = local.data_dir
    data_volume_id              = aws_ebs_volume.data.id
    http_port                   = local.http_port
    postgres_password_parameter = aws_ssm_parameter.postgres_password.name
    admin_token_parameter       = aws_ssm_parameter.admin_token.name
    visitor_secret_parameter    = aws_ssm_parameter.visitor_secret.name
    domain                      = local.tls ? var.domain : ""
    acme_email                  = var.acme_email
    acme_staging                = var.acme_staging
  })
  # A changed bootstrap means a new host; the data volume and the Elastic IP
  # move over to it.
  user_data_replace_on_change = true

  # IMDSv2 only; one hop, so containers cannot reach the instance's role.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    delete_on_termination = true
  }

  lifecycle {
    # A newer Ubuntu image would replace the host at every apply; replace it
    # when you choose to (`terraform apply -replace=aws_instance.web`).
    ignore_changes = [ami]
  }

  tags = {
    Name = "${var.name}-web"
  }

  depends_on = [module.host_role]
}

# PostgreSQL's data, on its own volume: it outlives the instance.
resource "aws_ebs_volume" "data" {
  #checkov:skip=CKV_AWS_189:Encrypted with the AWS-managed EBS key; a customer-managed key adds cost and nothing for a single host.
  availability_zone = data.aws_subnet.selected.availability_zone
  size              = var.data_volume_size
  type              = "gp3"
  encrypted         = true
  snapshot_id       = var.data_snapshot_id
  final_snapshot    = var.final_snapshot

  tags = {
    Name = "${var.name}-pgdata"
  }
}

resource "aws_volume_attachment" "data" {
  device_name = "/dev/sdf"
  volume_id   = aws_ebs_volume.data.id
  instance_id = aws_instance.web.id
  # Stop the instance before detaching, so PostgreSQL shuts down cleanly
  # when the instance is replaced.
  stop_instance_before_detaching = true
}
