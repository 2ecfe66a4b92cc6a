"""Serving the dashboard: one Solara app on this machine, its assets from the installed packages."""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Callable
from pathlib import Path

from citysim.errors import CitysimError

__all__ = ["VIZ_MISSING", "bind", "require_viz", "serve"]

VIZ_MISSING = "the dashboard needs the viz extra: pip install 'citysim[viz]'"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def require_viz() -> None:
    """Raise a user error unless the ``viz`` extra (Solara, Mesa's visualization) is installed."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # read once Solara loads: nothing leaves
    try:
        with warnings.catch_warnings():
            # Solara's check of the hooks of Mesa's SolaraViz (a component this page does not use)
            warnings.filterwarnings("ignore", message=".*ComponentsView", category=UserWarning)
            import mesa.visualization  # noqa: F401  (needs networkx, altair, solara)
        import solara  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise CitysimError(VIZ_MISSING) from None


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port).

    Raises:
        CitysimError: a port out of range, or in use.
    """
    if not 0 <= port <= 65535:
        raise CitysimError(f"--port: {port} is not between 0 and 65535 (0: any free port)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CitysimError(
            f"--port: cannot listen on {host}:{port} ({exc.strerror or exc}); try another --port"
        ) from None
    sock.listen(128)
    return sock


def serve(scenario: Path, host: str, port: int, seed: int | None, announce: Callable[[str], None] = print) -> None:
    """Serve the dashboard for a scenario until interrupted.

    Args:
        scenario: the scenario file (already validated).
        host: the address to listen on.
        port: the port (0: any free port).
        seed: the seed to start with (None: the scenario's).
        announce: prints the address once the server listens.
    """
    sock = bind(host, port)
    require_viz()
    from citysim.dashboard.app import SCENARIO_ENV, SEED_ENV

    os.environ[SCENARIO_ENV] = str(Path(scenario).resolve())
    if seed is not None:
        os.environ[SEED_ENV] = str(seed)
    os.environ["SOLARA_APP"] = "citysim.dashboard.app"
    import uvicorn

    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config("solara.server.starlette:app", log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    announce(f"citysim dashboard: http://{shown}:{actual}/ (Ctrl+C to stop)")
    server.run(sockets=[sock])
