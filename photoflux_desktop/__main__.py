from photoflux_desktop.cli import main

raise SystemExit(main())
