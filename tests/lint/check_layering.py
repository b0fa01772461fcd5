#!/usr/bin/env python3
"""The module layering, checked: a module includes only itself and the modules below it, and the
HTTP libraries stay in the transport.

LAYERS mirrors the link lines of CMakeLists.txt (the allowed edges of the architecture). A new
module, or a new edge, is added here and there together, on purpose.
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")

# module -> the modules it may include (besides itself)
LAYERS = {
    "common": set(),
    "observability": {"common"},
    "message": {"common"},
    "config": {"common"},
    "token": {"common"},
    "auth": {"common", "config"},
    "store": {"common"},
    # Schema validation (valijson): compiled schemas and the checks of a request and an answer.
    "validation": {"common", "message"},
    "gateway": {"common", "config", "token", "observability", "message", "store", "auth", "throttle",
                "validation"},
    # Load time: definitions and key sets, built for the request path (gateway/api.h, router).
    "apis": {"common", "config", "token", "gateway", "validation"},
    "throttle": {"common", "config"},
    # The tier rule reads the throttling policies; issuing a key is counted in the metrics.
    "sts": {"common", "config", "token", "auth", "throttle", "observability"},
    # The key management policy uses the STS's rules (the APIs a user may use, the tier).
    "lifecycle": {"common", "config", "token", "store", "sts", "throttle", "observability"},
    "http": {"common", "config", "message", "observability"},
    "cluster": {"common", "config", "store", "lifecycle", "throttle"},
    "server": {"common", "config", "observability", "message", "token", "auth", "store", "apis", "gateway", "sts",
               "lifecycle", "http", "throttle", "cluster"},
    # src/main.cc: flags, wiring and signals; the gateway's decisions stay behind server/.
    "main": {"common", "config", "token", "auth", "server"},
}

# HTTP libraries: which modules may include them. The security core (token/, auth/) and every
# decision (gateway/, sts/, lifecycle/) see plain structs only.
HTTP_LIBRARIES = {
    "httplib.h": {"server", "main"},  # the `micro-gw health` client only
    "boost/beast": {"http"},
    "boost/asio": {"http"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def sources():
    """(module, path relative to src/, absolute path) for every source file; src/main.cc is the
    module "main"."""
    for module in sorted(os.listdir(SRC)):
        path = os.path.join(SRC, module)
        if not os.path.isdir(path):
            if module.endswith((".cc", ".h")):
                yield os.path.splitext(module)[0], module, path
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith((".cc", ".h")):
                yield module, f"{module}/{name}", os.path.join(path, name)


def main():
    errors = []
    for module, rel, full in sources():
        if module not in LAYERS:
            errors.append(f"src/{rel}: module {module} missing from LAYERS in {__file__}")
            continue
        with open(full, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                where = f"src/{rel}:{lineno}"
                if kind == '"':
                    dep = target.split("/", 1)[0]
                    if "/" in target and dep != module and dep not in LAYERS[module]:
                        errors.append(f"{where}: {module}/ includes {target}; allowed: "
                                      f"{', '.join(sorted(LAYERS[module])) or 'nothing'}")
                for lib, allowed in HTTP_LIBRARIES.items():
                    if target.startswith(lib) and module not in allowed:
                        errors.append(f"{where}: {module}/ includes the HTTP library {target}; "
                                      f"only {', '.join(sorted(allowed))}/ may")
    for e in errors:
        print(e)
    if errors:
        return 1
    print(f"layering: {len(LAYERS)} modules, every include along an allowed edge")
    return 0


if __name__ == "__main__":
    sys.exit(main())
