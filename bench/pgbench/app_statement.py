"""Prints a pgbench script that runs the app's own per-batch statement
(src/counting/record_visits.sql, the file the binary embeds, or STATEMENT) as
one transaction with BATCH new visitors of a desktop Chrome, the way the app
binds it. The batch's size is a pgbench variable, hence a parameter under
`-M prepared`: PostgreSQL then plans the arrays as the app's, whose length it
does not know, rather than as constants it would count.
    python3 bench/pgbench/app_statement.py BATCH [STATEMENT] > app.sql"""
import os
import re
import sys

STATEMENT = os.path.join(os.path.dirname(__file__), "..", "..", "src", "counting", "record_visits.sql")


def script(batch, statement=STATEMENT):
    def column(value, sql_type):
        return f"array_fill({value}::{sql_type}, ARRAY[CAST(:batch AS int)])"

    parameters = {
        # A new visitor key per visit: sha256 of a random number and its place.
        1: "ARRAY(SELECT sha256(('app-' || :n || '-' || i)::bytea) FROM generate_series(1, CAST(:batch AS int)) i)",
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
    with open(statement) as text:
        sql = text.read().strip()
    sql = re.sub(r"\$(\d+)", lambda match: f"({parameters[int(match.group(1))]})", sql)
    return f"\\set batch {batch}\n\\set n random(1, 2000000000)\n{sql};\n"


if __name__ == "__main__":
    print(script(int(sys.argv[1]), *sys.argv[2:3]), end="")
