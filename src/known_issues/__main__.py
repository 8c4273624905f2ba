import sys

from known_issues.cli import main

sys.exit(main())
