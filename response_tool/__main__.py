import sys

from response_tool.cli import main

sys.exit(main())
