"""The test bed changes a real config only where a compose endpoint or container path stands."""

from __future__ import annotations

from pathlib import Path

import pytest

from testbed.compose import service
from testbed.render import CONTAINER_PATHS, ENDPOINTS, Mapping, _endpoint_pattern, _path_pattern
from testbed.servers import CONFIGS, SERVERS

REAL_CONFIGS = [path for path in CONFIGS.values() if path.exists()]


@pytest.fixture
def mapping(tmp_path: Path) -> Mapping:
    ports = {endpoint: 41000 + i for i, endpoint in enumerate(ENDPOINTS)}
    return Mapping(ports=ports, paths={p: tmp_path / p.strip("/").replace("/", "-") for p in CONTAINER_PATHS})


@pytest.mark.parametrize("config", REAL_CONFIGS, ids=lambda p: p.name)
def test_rendering_changes_nothing_but_the_mapping(config: Path, mapping: Mapping) -> None:
    """A rendered repository config minus the mapping is the original, and no mapped name is left in it."""
    original = config.read_text()
    rendered = mapping.render(original)
    assert rendered != original
    assert mapping.unrender(rendered) == original
    left = [e for e in ENDPOINTS if _endpoint_pattern(e).search(rendered)] + [p for p in CONTAINER_PATHS if _path_pattern(p).search(rendered)]
    assert left == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("url: http://loki:3100/loki/api/v1/push", "url: http://127.0.0.1:41000/loki/api/v1/push"),
        ("path_prefix: /loki\nchunks: '/loki/chunks'", "path_prefix: /srv/bed/loki\nchunks: '/srv/bed/loki/chunks'"),
        ("targets: [loki:3100, notloki:3100, loki:31000, loki.x:3100]", "targets: [127.0.0.1:41000, notloki:3100, loki:31000, loki.x:3100]"),
        ("rules: /etc/loki/rules, /lokis, /loki-x", "rules: /etc/loki/rules, /lokis, /loki-x"),
        ("grafana: http://grafana:3000", "grafana: http://grafana:3000"),
    ],
)
def test_render_replaces_whole_tokens_only(text: str, expected: str) -> None:
    """Only whole endpoint and path tokens in the mapping change: not URL paths, longer names or unmapped endpoints."""
    mapping = Mapping(ports={"loki:3100": 41000}, paths={"/loki": Path("/srv/bed/loki")})
    assert mapping.render(text) == expected
    assert mapping.unrender(mapping.render(text)) == text


def test_mapping_refuses_unknown_names_and_shared_ports() -> None:
    """A mapping names only compose endpoints and container paths, each endpoint on its own port."""
    with pytest.raises(ValueError, match="not compose endpoints"):
        Mapping(ports={"db:5432": 1})
    with pytest.raises(ValueError, match="not compose endpoints"):
        Mapping(ports={}, paths={"/data": Path("/srv")})
    with pytest.raises(ValueError, match="share a local port"):
        Mapping(ports={"loki:3100": 1, "bot:8000": 1})


def test_mirror_renders_files_and_links_folders(tmp_path: Path) -> None:
    """A mirrored mount holds its folder's files rendered and links to its subfolders, so relative paths (rules/*.yml) resolve."""
    source = tmp_path / "src"
    (source / "rules").mkdir(parents=True)
    (source / "rules" / "a.yml").write_text("groups: []\n")
    (source / "prometheus.yml").write_text("targets: [bot:8000]\n")
    own_rules = tmp_path / "own-rules"
    own_rules.mkdir()
    mapping = Mapping(ports={"bot:8000": 41001})
    out = tmp_path / "out"
    mapping.mirror(source, out)
    assert (out / "prometheus.yml").read_text() == "targets: [127.0.0.1:41001]\n"
    assert (out / "rules" / "a.yml").read_text() == "groups: []\n"
    mapping.mirror(source, out, overrides={"rules": own_rules})
    assert (out / "rules").resolve() == own_rules.resolve()


@pytest.mark.parametrize("server", [*sorted(SERVERS), "bot"])
def test_every_compose_path_of_the_servers_is_mapped(server: str) -> None:
    """Each folder compose mounts into a service the bed runs, and /run/secrets, is a container path the mapping covers."""
    spec = service(server)
    assert {*spec.binds, *spec.volumes, "/run/secrets"} <= set(CONTAINER_PATHS)
