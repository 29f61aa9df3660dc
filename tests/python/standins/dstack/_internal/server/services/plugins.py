# SPDX-License-Identifier: Apache-2.0
"""Stand-in of dstack's server side of plugins: the plugins named in
config.yml's `plugins:` are found among the "dstack.plugins" entry points,
checked to subclass Plugin and made with no arguments; on every apply, each
policy's on_apply runs in a worker thread, and a ValueError becomes the
client's error."""
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from importlib.metadata import entry_points

from dstack._internal.core.errors import ServerClientError
from dstack.plugins import Plugin

_PLUGINS = []
_EXECUTOR = ThreadPoolExecutor(max_workers=8)


def load_plugins(enabled_plugins):
    _PLUGINS.clear()
    found = []
    for ep in entry_points(group="dstack.plugins"):
        if ep.name not in enabled_plugins:
            continue
        module_path, _, class_name = ep.value.partition(":")
        try:
            module = import_module(module_path)
        except ImportError:
            continue   # dstack logs a warning and goes on without the plugin
        plugin_class = getattr(module, class_name, None)
        if plugin_class is None or not issubclass(plugin_class, Plugin):
            continue
        _PLUGINS.append(plugin_class())
        found.append(ep.name)
    return found


def apply_plugin_policies(user, project, spec):
    for policy in [p for plugin in _PLUGINS for p in plugin.get_apply_policies()]:
        try:
            spec = _EXECUTOR.submit(policy.on_apply, user=user, project=project, spec=spec).result()
        except ValueError as e:
            raise ServerClientError(e.args[0] if e.args else None)
    return spec
