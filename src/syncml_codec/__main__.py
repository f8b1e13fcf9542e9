"""``python -m syncml_codec`` runs the ``syncml`` command."""

from .cli import main

raise SystemExit(main())
