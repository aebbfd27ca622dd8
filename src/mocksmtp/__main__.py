"""``python -m mocksmtp``: the same as the ``mocksmtp`` command."""

from .cli import main

raise SystemExit(main())
