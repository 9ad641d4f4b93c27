"""``python -m describe_images``: the same as the ``describe-images`` command."""

from ._cli import main

raise SystemExit(main())
