"""Writes a country database (MaxMind format) that places 127.0.0.0/8 in
Germany, for bench/pixel.sh: through nginx every benchmark client is a
loopback address, and a replica should look it up and store a country for
each new visitor, as the image's database does for public addresses.
    python3 bench/loopback_country.py OUTPUT.mmdb"""
import sys

from mmdb_writer import MMDBWriter
from netaddr import IPSet

writer = MMDBWriter(ip_version=6, database_type="bench-loopback-country", ipv4_compatible=True)
writer.insert_network(IPSet(["127.0.0.0/8"]), {"country_code": "DE"})
writer.to_db_file(sys.argv[1])
