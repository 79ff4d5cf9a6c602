"""Checks that .env.example lists every variable docker-compose.yml reads,
with the same default, and nothing else.
    python3 scripts/check_env_example.py docker-compose.yml .env.example"""
import re
import sys

# ${NAME}, ${NAME:-default} or ${NAME-default}; $${...} is Compose's escape.
REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def compose_defaults(text):
    defaults = {}
    for name, default in REFERENCE.findall(text):
        if defaults.get(name, default) != default:
            sys.exit(f"{name} has two defaults in the compose file: {defaults[name]!r} and {default!r}")
        defaults[name] = default
    return defaults


def example_values(text):
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def main():
    compose_path, example_path = sys.argv[1:3]
    with open(compose_path) as compose, open(example_path) as example:
        defaults, values = compose_defaults(compose.read()), example_values(example.read())
    problems = [f"{name} is read by the compose file but missing from {example_path}"
                for name in sorted(defaults.keys() - values.keys())]
    problems += [f"{name} is in {example_path} but the compose file does not read it"
                 for name in sorted(values.keys() - defaults.keys())]
    problems += [f"{name}: {example_path} says {values[name]!r}, the compose file defaults to {defaults[name]!r}"
                 for name in sorted(defaults.keys() & values.keys()) if defaults[name] != values[name]]
    if problems:
        sys.exit("\n".join(problems))
    print(f"ok -- {len(defaults)} variables, each with its default, in {example_path}")


if __name__ == "__main__":
    main()
