"""Refresh deploy/schemas/, the JSON schemas kubeconform validates the tree against: ``python -m deploy.schemas`` (make schemas).

CI has no way to fetch a repository, so the schemas are committed; this makes them again from
package registries, at the versions of deploy/versions.env:

- The operator's kinds: its CRDs from the root module's example/prometheus-operator-crd/ (Go module
  proxy), converted by kubeconform's own scripts/openapi2jsonschema.py (in kubeconform's module), with
  ``additionalProperties: false`` down to the root, so any unknown field fails. The root module's
  newest served release (0.85.0) is older than the API types the Go check decodes with (0.95.2, see
  deploy/check/go.mod): docs/kubernetes.md says what that skew means. Its Apache-2.0 LICENSE is kept
  beside them.
- Built-in kinds (ConfigMap, Deployment): the strict schemas of the PyPI package kubernetes-validate
  (Apache-2.0, from Kubernetes' OpenAPI), whose references into one shared definitions file are
  inlined, as kubeconform reads one standalone file per kind; descriptions are dropped (kubeconform
  does not show them), which keeps the Deployment's schema a third of its size.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from testbed.binaries import cache_dir, pins

from .render import MONITORING

HERE = Path(__file__).resolve().parent
OUT = HERE / "schemas"
VERSIONS = HERE / "versions.env"
#: The operator's CRDs of the kinds the tree holds.
CRDS = ("prometheusrules", "alertmanagerconfigs", "podmonitors")
#: kubernetes-validate's file names of the built-in kinds the tree holds (kubeconform's names too).
BUILT_IN = ("configmap-v1", "deployment-apps-v1")


def _go_module(module: str, version: str) -> Path:
    """The module's directory in the test bed's module cache, downloaded if missing."""
    env = os.environ | {"GOMODCACHE": str(cache_dir() / "gomod"), "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    argv = ["go", "mod", "download", "-json", f"{module}@v{version}"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)  # noqa: S603 -- pinned modules by name
    return Path(json.loads(done.stdout)["Dir"])


def _without_descriptions(node: Any, names: bool = False) -> Any:
    """``node`` without its ``description`` keywords; in a ``properties`` map (``names``) the keys are field names, all kept."""
    if isinstance(node, dict):
        return {key: _without_descriptions(value, key == "properties") for key, value in node.items() if names or key != "description"}
    if isinstance(node, list):
        return [_without_descriptions(item) for item in node]
    return node


def _inline(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every ``$ref`` into the definitions replaced by the definition itself."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                raise ValueError(f"recursive definition {name}: cannot be inlined")
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _inline(definitions[name], definitions, (*seen, name)) | _inline(rest, definitions, seen)
        return {key: _inline(value, definitions, seen) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions, seen) for item in node]
    return node


def operator_schemas(out: Path, version: str, kubeconform: str) -> None:
    crd_dir = _go_module("github.com/prometheus-operator/prometheus-operator", version) / "example" / "prometheus-operator-crd"
    script = _go_module("github.com/yannh/kubeconform", kubeconform) / "scripts" / "openapi2jsonschema.py"
    env = os.environ | {"FILENAME_FORMAT": "{kind}-{group}-{version}", "DENY_ROOT_ADDITIONAL_PROPERTIES": "1"}
    files = [str(crd_dir / f"{MONITORING}_{name}.yaml") for name in CRDS]
    subprocess.run([sys.executable, str(script), *files], cwd=out, env=env, check=True, capture_output=True)  # noqa: S603
    shutil.copyfile(crd_dir.parents[1] / "LICENSE", out / "LICENSE")


def built_in_schemas(out: Path, package_version: str, kubernetes: str) -> None:
    with tempfile.TemporaryDirectory(prefix="qw-schemas-") as tmp:
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp, f"kubernetes-validate=={package_version}"]
        subprocess.run(pip, check=True)  # noqa: S603
        [wheel] = Path(tmp).glob("*.whl")
        folder = f"kubernetes_validate/kubernetes-json-schema/v{kubernetes}-local-strict"
        with zipfile.ZipFile(wheel) as archive:
            definitions = json.loads(archive.read(f"{folder}/_definitions.json"))["$defs"]
            for name in BUILT_IN:
                schema = _inline(json.loads(archive.read(f"{folder}/{name}.json")), definitions)
                text = json.dumps(_without_descriptions(schema), indent=2, sort_keys=True) + "\n"
                (out / f"{name}.json").write_text(text, encoding="utf-8")


def main() -> int:
    versions = pins(VERSIONS)
    OUT.mkdir(exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()
    operator_schemas(OUT, versions["operator_crd"], versions["kubeconform"])
    built_in_schemas(OUT, versions["kubernetes_validate"], versions["kubernetes"])
    for path in sorted(OUT.iterdir()):
        print(path.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
