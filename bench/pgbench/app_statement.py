"""Prints a pgbench script that runs the app's own per-batch statement
(src/counting/record_visits.sql, the file the binary embeds) as one transaction
with BATCH new visitors of a desktop Chrome, the way the app binds it.
    python3 bench/pgbench/app_statement.py BATCH > app.sql"""
import os
import re
import sys

STATEMENT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "counting", "record_visits.sql")


def script(batch):
    def column(value, sql_type):
        return f"array_fill({value}::{sql_type}, ARRAY[{batch}])"

    parameters = {
        # A new visitor key per visit: sha256 of a random number and its place.
        1: f"ARRAY(SELECT sha256(('app-' || :n || '-' || i)::bytea) FROM generate_series(1, {batch}) i)",
        2: column("false", "bool"),
        3: column("'/'", "text"),
        4: column("'Chrome'", "text"),
        5: column("'Linux'", "text"),
        6: column("'desktop'", "text"),
        7: column("NULL", "text"),
        8: "(:n % 64)::smallint",
        9: column("NULL", "timestamptz"),
        # The instance's own site.
        10: column("0", "int"),
        # No request ids, as for the benchmark's requests direct to a replica
        # (only nginx names them).
        11: column("NULL", "bytea"),
        # No source, campaign, screen or event, as for GET / and the pixel
        # without them; no country database.
        **{n: column("NULL", "text") for n in range(12, 21)},
    }
    with open(STATEMENT) as statement:
        sql = statement.read().strip()
    sql = re.sub(r"\$(\d+)", lambda match: f"({parameters[int(match.group(1))]})", sql)
    return f"\\set n random(1, 2000000000)\n{sql};\n"


if __name__ == "__main__":
    print(script(int(sys.argv[1])), end="")
