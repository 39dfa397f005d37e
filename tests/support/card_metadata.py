"""The checks LocalHub's `/api/validate-yaml` runs on a README's metadata block, as the Hub does on a push.

Not the Hub's full schema: the fields our cards write and the Hub rejects when wrong. A README without a
metadata block passes (the Hub only warns). Each problem is one message naming the field.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

# Licence ids the Hub accepts in `license:` (https://huggingface.co/docs/hub/repositories-licenses).
KNOWN_LICENSES = frozenset(
    "apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 "
    "bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc "
    "cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 "
    "cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 "
    "cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 eupl-1.1 agpl-3.0 "
    "gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++ osl-3.0 "
    "postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr llama2 llama3 llama3.1 gemma unknown other".split()
)
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.\-]*/)?[A-Za-z0-9][\w.\-]*$")


def _metadata(content: str) -> tuple[dict[str, Any] | None, list[str]]:
    if not content.startswith("---"):
        return None, []
    end = content.find("\n---", 3)
    if end < 0:
        return None, ["The metadata block opened by '---' is never closed."]
    try:
        data = yaml.safe_load(content[3:end])
    except yaml.YAMLError as err:
        return None, [f"The metadata block is not valid YAML: {err}"]
    if data is None:
        return None, []
    if not isinstance(data, dict):
        return None, ["The metadata block must be a mapping of fields."]
    return data, []


def _ids(value: Any, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        return [f"'{field}' must be a repository id or a list of them."]
    bad = [item for item in items if not _REPO_ID.match(item) or ".." in item or "--" in item]
    return [f"'{field}' holds {item!r}, which is not a valid repository id." for item in bad]


def _model_index(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        return ["'model-index' must be a non-empty list."]
    errors = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            errors.append("Each 'model-index' entry needs a 'name'.")
            continue
        results = entry.get("results")
        if not isinstance(results, list) or not results:
            errors.append(f"'model-index' entry '{entry['name']}' needs a non-empty 'results' list.")
            continue
        for result in results:
            task, dataset, metrics = (
                result.get(k) if isinstance(result, dict) else None for k in ("task", "dataset", "metrics")
            )
            if not isinstance(task, dict) or not isinstance(task.get("type"), str):
                errors.append("Each 'model-index' result needs 'task.type'.")
            if not isinstance(dataset, dict) or not all(isinstance(dataset.get(k), str) for k in ("type", "name")):
                errors.append("Each 'model-index' result needs 'dataset.type' and 'dataset.name'.")
            if not isinstance(metrics, list) or not metrics:
                errors.append("Each 'model-index' result needs a non-empty 'metrics' list.")
                continue
            for metric in metrics:
                ok = isinstance(metric, dict) and isinstance(metric.get("type"), str) and "value" in metric
                if not ok or isinstance(metric.get("value"), (dict, list)) or metric.get("value") is None:
                    errors.append(f"Metric {metric!r} needs a 'type' and a plain 'value'.")
    return errors


def validate_card_metadata(content: str) -> list[str]:
    """Problems with a README's metadata, as messages; empty when the Hub would accept it."""
    data, errors = _metadata(content)
    if data is None:
        return errors
    license_ = data.get("license")
    if license_ is not None and (not isinstance(license_, str) or license_ not in KNOWN_LICENSES):
        errors.append(f"'license' is {license_!r}, which is not a licence id the Hub knows.")
    for field in ("base_model", "datasets"):
        if field in data:
            errors += _ids(data[field], field)
    for field in ("language", "tags"):
        value = data.get(field)
        if value is not None and not (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            errors.append(f"'{field}' must be a string or a list of strings.")
    for field in ("library_name", "pipeline_tag"):
        if field in data and not isinstance(data[field], str):
            errors.append(f"'{field}' must be a string.")
    if "model-index" in data:
        errors += _model_index(data["model-index"])
    return errors
