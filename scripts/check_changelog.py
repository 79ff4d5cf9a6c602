"""The changelog names every migration and every release: a migration added
without its line in CHANGELOG.md, or a release in releases.txt without its
section, fails the test command.
    python3 scripts/check_changelog.py"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    with open(os.path.join(ROOT, "CHANGELOG.md")) as changelog:
        text = changelog.read()
    missing = [f"migrations/{name}" for name in sorted(os.listdir(os.path.join(ROOT, "migrations")))
               if name.endswith(".sql") and f"`{name}`" not in text]
    with open(os.path.join(ROOT, "releases.txt")) as listed:
        versions = [line.split()[0] for line in listed if line.strip() and not line.startswith("#")]
    missing += [f"release {version}" for version in versions
                if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.M)]
    if missing:
        sys.exit("CHANGELOG.md does not name: " + ", ".join(missing))
    print(f"ok -- CHANGELOG.md names every migration and the {len(versions)} releases")


if __name__ == "__main__":
    main()
