import sys

from nowwhat.cli import main

sys.exit(main())
