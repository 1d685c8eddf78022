"""Edits of a parsed stack file's config, for the bad-input tests: ``set_(path, value)`` and
``delete(path)`` return a function that changes the config in place."""


def _parent(config, path):
    node = config
    for key in path[:-1]:
        node = node[key]
    return node


def set_(path, value):
    return lambda config: _parent(config, path).__setitem__(path[-1], value)


def delete(path):
    return lambda config: _parent(config, path).pop(path[-1])
