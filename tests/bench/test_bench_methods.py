"""The benchmarks' headings and method paragraphs, printed into docs/benchmarks.md, name the log server the test bed really runs."""

from __future__ import annotations

import importlib
import pkgutil
import re

import bench
from testbed.binaries import pins

#: The benchmarks that push to the bed's log server.
SHIPPING = ("events", "outage", "pipeline", "shipping")


def _docs() -> dict[str, str]:
    return {m.name: importlib.import_module(f"bench.{m.name}").__doc__ or "" for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")}


def test_shipping_benchmarks_name_victorialogs_and_the_push_protocol() -> None:
    """Each benchmark that ships logs says the server is VictoriaLogs at the pinned version, speaking Loki's push protocol."""
    docs = _docs()
    pinned = f"VictoriaLogs v{pins()['victorialogs']}"
    for name in SHIPPING:
        text = " ".join(docs[name].split())
        assert pinned in text, f"bench/{name}.py does not name {pinned}"
        assert "Loki's push protocol" in text, f"bench/{name}.py does not say the server speaks Loki's push protocol"


def test_every_victorialogs_version_named_is_the_pinned_one() -> None:
    """No heading or method paragraph names a VictoriaLogs version other than compose/versions.env's."""
    named = {version for doc in _docs().values() for version in re.findall(r"VictoriaLogs v(\S+?)[,.;:)]?(?:\s|$)", doc)}
    assert named == {pins()["victorialogs"]}
