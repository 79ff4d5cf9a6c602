# Migrations run once per deploy, not raced by every host (the hosts run
# with MIGRATE_ON_START=false and report not ready until they are applied):
# this Run Command document runs `visitors migrate` with a given image on
# one host, with that host's configuration. scripts/deploy.sh runs it
# before refreshing the hosts; for the first apply, see `migrate_command`.
resource "aws_ssm_document" "migrate" {
  name            = "${var.name}-migrate"
  document_type   = "Command"
  document_format = "JSON"

  content = jsonencode({
    schemaVersion = "2.2"
    description   = "visitors: apply pending database migrations with an image (visitors migrate)"
    parameters = {
      Image = {
        type           = "String"
        description    = "The image whose migrations to apply"
        allowedPattern = "^[a-z0-9][a-z0-9._/:@-]+$"
      }
    }
    mainSteps = [{
      action = "aws:runShellScript"
      name   = "migrate"
      inputs = {
        timeoutSeconds = "900"
        runCommand = [
          "set -eu",
          "docker pull '{{ Image }}'",
          "docker run --rm --env-file /etc/visitors/app.env -v /etc/visitors/rds-ca.pem:/etc/visitors/rds-ca.pem:ro '{{ Image }}' migrate",
        ]
      }
    }]
  })
}
