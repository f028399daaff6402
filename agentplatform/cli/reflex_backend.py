"""Run Reflex's production backend serving the prebuilt frontend on the same port.

`agentplatform serve` replaces itself with this module (a fresh interpreter: nothing the
migrations opened is inherited by the web workers), with the application directory as its
working directory. It is what `reflex run --env prod --single-port` does once its build is
done, without rebuilding: the build is `agentplatform build-frontend`'s, stamped and reused.
"""

from __future__ import annotations

import sys

from reflex.utils import exec as reflex_exec
from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment


def main() -> int:
    config = get_config()
    port = int(config.backend_port or 3000)
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    reflex_exec.notify_app_running()
    reflex_exec.run_backend_prod(
        config.backend_host,
        port,
        config.loglevel.subprocess_level(),
        mount_frontend_compiled_app=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
