"""`python -m agentplatform.cli …`: the same as the `agentplatform` command."""

import sys

from agentplatform.cli import main

sys.exit(main())
