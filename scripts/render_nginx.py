"""Renders nginx/templates/default.conf.template (or the template given with
--template) as the official nginx image does (envsubst of the given variables
only), into DIR/conf.d/, and writes DIR/nginx.conf around it the way the
image's main configuration includes it, with every path inside DIR so that
nginx runs unprivileged there.
    python3 scripts/render_nginx.py [--template FILE] DIR NAME=value ..."""
import os
import re
import sys

TEMPLATE = os.path.join(os.path.dirname(__file__), "..", "nginx", "templates", "default.conf.template")

MAIN = """daemon off;
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/conf.d/*.conf;
}}
"""


def render(template, variables):
    """envsubst with a list of names: ${NAME} for those names, nothing else."""
    def replace(match):
        name = match.group(1)
        return variables[name] if name in variables else match.group(0)
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", replace, template)


def write(template_path, directory, variables):
    """Renders the template into DIRECTORY, with its nginx.conf."""
    os.makedirs(os.path.join(directory, "conf.d"), exist_ok=True)
    os.makedirs(os.path.join(directory, "tmp"), exist_ok=True)
    with open(template_path) as template:
        text = render(template.read(), variables)
    left = re.findall(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", text)
    if left:
        sys.exit(f"template variables without a value: {sorted(set(left))}")
    with open(os.path.join(directory, "conf.d", "default.conf"), "w") as out:
        out.write(text)
    with open(os.path.join(directory, "nginx.conf"), "w") as out:
        out.write(MAIN.format(dir=directory))


def main():
    arguments = sys.argv[1:]
    template_path = TEMPLATE
    if arguments[0] == "--template":
        template_path, arguments = arguments[1], arguments[2:]
    directory, assignments = arguments[0], arguments[1:]
    write(template_path, directory, dict(assignment.split("=", 1) for assignment in assignments))


if __name__ == "__main__":
    main()
