"""Suite-wide setup: tests read mkdocs.yml with PyYAML, which needs MkDocs' ``!ENV`` tag explained.

mkdocs.yml turns the print page on with ``enabled: !ENV [DNNF_PDF, false]``; MkDocs resolves the tag
(the first variable that is set, parsed as YAML, else the last item as the default), and so does this.
"""

from __future__ import annotations

import os

import yaml


def _env_tag(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        names, default = [loader.construct_scalar(node)], None
    else:
        items = loader.construct_sequence(node)
        names, default = (items[:-1], items[-1]) if len(items) > 1 else (items, None)
    for name in names:
        if name in os.environ:
            return yaml.safe_load(os.environ[name])
    return default


yaml.SafeLoader.add_constructor("!ENV", _env_tag)
