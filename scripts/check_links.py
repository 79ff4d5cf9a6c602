"""Checks that every relative link in the repository's Markdown files points
at a file or directory that exists (external links are not fetched).
    python3 scripts/check_links.py FILE.md ..."""
import os
import re
import sys

# [text](target) and ![alt](target), not inside code spans.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def broken_links(path):
    with open(path) as markdown:
        text = re.sub(r"```.*?```", "", markdown.read(), flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        file_part = target.split("#", 1)[0]
        if not os.path.exists(os.path.join(os.path.dirname(path), file_part)):
            yield target


def main():
    problems = [f"{path}: broken link {target}" for path in sys.argv[1:] for target in broken_links(path)]
    if problems:
        sys.exit("\n".join(problems))
    print(f"ok -- relative links of {len(sys.argv) - 1} Markdown files resolve")


if __name__ == "__main__":
    main()
