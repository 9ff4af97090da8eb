"""Fetch mq broker's /metrics and parse it with prometheus_client's parser of the
text exposition format; print every family as one JSON document on stdout:
{"families": [{"name", "type", "samples": [[name, labels, value], ...]}]}.
A document the parser refuses makes this exit non-zero with the parser's error.

Usage: python3 prometheus_parse.py HTTP_PORT
"""

import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    port = int(sys.argv[1])
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as resp:
        content_type = resp.headers.get("Content-Type", "")
        text = resp.read().decode("utf-8")
    families = []
    for family in text_string_to_metric_families(text):
        families.append(
            {
                "name": family.name,
                "type": family.type,
                "samples": [[s.name, s.labels, s.value] for s in family.samples],
            }
        )
    json.dump({"content_type": content_type, "families": families}, sys.stdout)


if __name__ == "__main__":
    main()
